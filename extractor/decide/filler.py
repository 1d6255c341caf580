"""Filler material and volume of one level.

The material is the most specific cement cue, the most frequent (then the latest) type among them.
The volume: a stated total wins; left + right volumes add; 'x mL per side' doubles for a bilateral
body; contrast, anesthetic and balloon-inflation volumes are not filler.
"""

from __future__ import annotations

import re
from collections import defaultdict

from ..labels import Cue
from ..lexicon import lexicon
from .cues import CEMENT_TYPES, is_positive
from .note_index import Attachment, NoteIndex, Rank, most_specific, positive_cues
from .section_roles import PROCEDURAL

VOLUME_WINDOW_BEFORE = 30  # characters around a volume checked for "not filler" words
VOLUME_WINDOW_AFTER = 12
PER_SIDE_WINDOW = 30  # characters after a volume that may say "per side"


def decide_cement(attachments: list[Attachment]) -> tuple[str | None, list[Attachment]]:
    """(pmma | bone_graft | bone_substitute | None, the attachments that prove it)."""
    cues = most_specific(positive_cues(attachments, set(CEMENT_TYPES)))
    if not cues:
        return None, []
    counts: dict[str, int] = defaultdict(int)
    for a in cues:
        counts[CEMENT_TYPES[a.mention.label]] += 1
    value = max(counts, key=lambda k: (counts[k], max(a.mention.start for a in cues
                                                        if CEMENT_TYPES[a.mention.label] == k)))
    return value, [a for a in cues if CEMENT_TYPES[a.mention.label] == value]


def note_cement(index: NoteIndex, attachments: list[Attachment]) -> tuple[str | None, list[Attachment]]:
    """A level filled with "the cement" takes the note's one named filler ("Preparation of Vertecem V+ cement
    (PMMA). Injection of the cement: Th-6 2.0 ml, ..."): only when the session names exactly one type."""
    if not any(a.mention.label == Cue.CEMENT_GENERIC and is_positive(a.mention) for a in attachments):
        return None, []
    typed = [m for s in index.sentences for m in s.mentions
             if m.label in CEMENT_TYPES and is_positive(m) and m.section in PROCEDURAL]
    kinds = {CEMENT_TYPES[m.label] for m in typed}
    if len(kinds) != 1:
        return None, []
    return kinds.pop(), [Attachment(typed[0], Rank.ALL)]


def filler_volumes(index: NoteIndex, attachments: list[Attachment], single: bool) -> list[Attachment]:
    """Volume cues that measure filler in this body."""
    vols = []
    for a in attachments:
        m = a.mention
        if m.label != Cue.VOLUME or (a.rank < Rank.INHERITED and not single) or m.section not in PROCEDURAL:
            continue
        s = index.sentence_of(m)
        local = index.text[max(s.start, m.start - VOLUME_WINDOW_BEFORE) : min(s.end, m.end + VOLUME_WINDOW_AFTER)]
        if lexicon().regex("not_filler_near_volume").search(local.lower()):
            continue
        if not lexicon().regex("filler_context").search(index.sentence_text(s).lower()):
            continue
        vols.append(a)
    return vols


def decide_volume(index: NoteIndex, attachments: list[Attachment], single: bool,
                  approach: str | None) -> tuple[float | None, list[Attachment]]:
    """(mL of filler in this body or None, the attachments that prove it). single: the only treated level."""
    vols = filler_volumes(index, attachments, single)
    if not vols:
        return None, []
    if not single:  # "Total PMMA: 10.5 mL" after the last level's block is the session total
        vols = [a for a in vols if a.rank == Rank.DIRECT or not index.is_total(a.mention)]
        if not vols:
            return None, []
    best = most_specific(vols)
    totals = [a for a in best if index.is_total(a.mention)] or [
        a for a in best if index.in_parens(a.mention)
        and any(b.mention.sent == a.mention.sent and b.mention.start < a.mention.start for b in best)
    ]
    if totals:
        pick = max(totals, key=lambda a: a.mention.start)
        return millilitres(pick.mention.text), [pick]
    if len(best) == 1:
        m = best[0].mention
        after = index.text[m.end : m.end + PER_SIDE_WINDOW].lower()
        if approach == "bilateral" and lexicon().regex("per_side").search(after):
            return round(2 * millilitres(m.text), 2), best
        return millilitres(m.text), best
    by_sentence: dict[int, list[Attachment]] = defaultdict(list)
    for a in best:
        by_sentence[a.mention.sent].append(a)
    if len(by_sentence) == 1 and len(best) == 2:  # "2.5 mL on the left and 2.0 mL on the right"
        return round(sum(millilitres(a.mention.text) for a in best), 2), best
    distinct = {millilitres(a.mention.text) for a in best}
    if len(distinct) == 1:
        return distinct.pop(), best[:1]
    return None, []


_DIGITS = re.compile(r"\s*(\d+(?:[.,]\d+)?)")


def millilitres(text: str) -> float:
    """'4.5 mL' → 4.5, with a decimal comma '2,8 ml' → 2.8; dictated 'four point five cc' → 4.5, 'three and
    a half cc' → 3.5."""
    t = text.lower()
    digits = _DIGITS.match(t)
    if digits:
        return float(digits.group(1).replace(",", "."))
    number_words = {w: i for i, w in enumerate(lexicon().words("number_words"))}
    words = re.findall(r"[a-z]+", t)
    value = float(number_words.get(words[0], 0))
    if "half" in words:
        return value + 0.5
    if "point" in words:
        i = words.index("point")
        if i + 1 < len(words) and words[i + 1] in number_words:
            value += number_words[words[i + 1]] / 10
    return value
