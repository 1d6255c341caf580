"""Approach (unilateral / bilateral) and side of one level.

An approach word wins unless a more specific side of access outranks it ("bipedicular at each level,
except T12, which was done from the left"); two sides of access make a bilateral approach.
"""

from __future__ import annotations

from ..labels import Cue, Modifier, Section
from ..lexicon import lexicon
from ..mentions import Mention
from .cues import APPROACH, STOPPED
from .note_index import Attachment, Rank, most_specific, positive_cues


def decide_approach(attachments: list[Attachment]) -> tuple[str | None, list[Attachment]]:
    """(unilateral | bilateral | None, the attachments that prove it)."""
    cues = positive_cues(attachments, APPROACH)
    if not cues and not positive_cues(attachments, {Cue.SIDE}):
        cues = planned_only(attachments, APPROACH)
        if not cues:
            sides = [a for a in planned_only(attachments, {Cue.SIDE}) if side_value(a.mention)]
            if sides and is_access_side(sides[-1].mention) and len({side_value(a.mention) for a in sides}) == 1:
                return "unilateral", sides
    access_sides = [a for a in positive_cues(attachments, {Cue.SIDE}) if is_access_side(a.mention)]
    top_side = max((a.rank for a in access_sides), default=0)
    if cues:
        best = max(cues, key=lambda a: (a.rank, names_approach(a.mention), a.mention.start))
        if top_side <= best.rank:
            value = "bilateral" if best.mention.label == Cue.APPROACH_BI else "unilateral"
            return value, [best]
        # "bipedicular at each level, except T12, which was done from the left": the exception wins
        sides = [a for a in access_sides if a.rank == top_side]
    else:
        sides = most_specific(positive_cues(attachments, {Cue.SIDE}))
    abandoned = abandoned_sides(attachments)  # "R side abandoned, no cement on the right"
    found = {side_value(a.mention) for a in sides} - {None}
    if abandoned and found - abandoned:
        found -= abandoned
    if len(found) == 1:
        return "unilateral", sides
    if len(found) == 2:
        return "bilateral", sides
    return None, []


def decide_side(attachments: list[Attachment]) -> tuple[str | None, list[Attachment]]:
    """(left | right | None, the attachment that proves it) for a unilateral level."""
    abandoned = abandoned_sides(attachments)
    cues = [a for a in positive_cues(attachments, {Cue.SIDE, Cue.APPROACH_UNI}) if side_value(a.mention)]
    if len({side_value(a.mention) for a in cues} - abandoned) == 1:
        cues = [a for a in cues if side_value(a.mention) not in abandoned]
    if not cues:
        cues = [a for a in planned_only(attachments, {Cue.SIDE, Cue.APPROACH_UNI}) if side_value(a.mention)]
    if not cues:
        return None, []
    best = max(cues, key=lambda a: (a.rank, access_score(a.mention), a.mention.start))
    return side_value(best.mention), [best]


def abandoned_sides(attachments: list[Attachment]) -> set[str | None]:
    return {side_value(a.mention) for a in attachments
            if a.mention.label == Cue.SIDE and a.mention.modifiers & STOPPED}


def names_approach(m: Mention) -> bool:
    """'bilateral', 'unipedicular': the cue names the approach itself."""
    t = m.text.lower()
    return any(w in t for w in lexicon().words("explicit_approach_words"))


def planned_only(attachments: list[Attachment], labels) -> list[Attachment]:
    """'so we planned a right unipedicular approach' and nothing else said: the plan is the best we have."""
    return [a for a in attachments if a.mention.label in labels
            and a.mention.modifiers == frozenset({Modifier.HYPOTHETICAL})
            and a.mention.section in (Section.TECHNIQUE, Section.PROCEDURE_TITLE) and a.rank >= Rank.INHERITED]


def access_score(m: Mention) -> int:
    """2: a side of access ('right unipedicular', 'through the left pedicle'); 0: where cement went."""
    t = m.text.lower()
    if t.startswith(lexicon().words("destination_prefixes")) and "ala" not in t:
        return 0
    words = lexicon().words("approach_words") + lexicon().words("access_words")
    return 2 if any(w in t for w in words) else 1


def is_access_side(m: Mention) -> bool:
    t = m.text.lower()
    return any(w in t for w in lexicon().words("approach_words")) or t.startswith(lexicon().words("access_prefixes"))


def side_value(m: Mention) -> str | None:
    """left | right | None (both or neither named)."""
    t = m.text.lower()
    left, right = bool(lexicon().regex("left").search(t)), bool(lexicon().regex("right").search(t))
    if left != right:
        return "left" if left else "right"
    return None
