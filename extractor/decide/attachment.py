"""Attachment: which level each cue of a sentence speaks about.

The hard part of reading these notes is attachment, not recognition: "bilateral", "balloon", "4 mL
PMMA", "biopsy" must land on the right level. Notes state attributes three ways and each is handled:
1. per-level statements and blocks ("T12: ... A unilateral left approach was used. ..."): a sentence
   that names levels sets the subject; following sentences without a level inherit it;
2. global statements ("at each level", a header naming several levels, a sentence before any level):
   apply to every treated level;
3. exceptions: a more specific statement outranks a general one, and among equals the later wins.
"""

from __future__ import annotations

from ..facts import level_index
from ..labels import Cue, Modifier, Section, cue_kind
from ..lexicon import lexicon
from ..mentions import Mention, Sentence
from .cues import CAVITY, NON_SEPARATING, NOT_SUBJECT, STOPPED, TREAT, is_negated, is_positive
from .note_index import Attachment, NoteIndex, Rank
from .section_roles import NEGATION_SECTIONS

LINE_ITEM_SECTIONS = frozenset({Section.IMPLANTS})
CLAUSE_BREAK_DISTANCE = 100  # a ';' between a cue and a level puts the cue this much further away
BEFORE_LEVEL_DISTANCE = 0.5  # 'bilateral at T9' is nearly as close as 'T9 (bilateral)'


def attach(index: NoteIndex) -> None:
    """Fill index.by_level, index.to_all and index.level_mentions from the note's sentences."""
    current: list[list[Mention]] | None = None
    section = object()
    for s in index.sentences:
        for m in s.mentions:
            if m.label == Cue.LEVEL:
                for lv in m.levels:
                    index.level_mentions[lv].append(m)
        if s.section != section:
            section, current = s.section, None
        if s.section not in NEGATION_SECTIONS:
            continue
        levels = subject_levels(s)
        named = [m for m in s.mentions if m.label == Cue.LEVEL and not m.is_range]
        if named and not levels:
            continue  # "after T12 kyphoplasty (5 mL PMMA)": the cues belong to a prior or planned level
        if levels:
            words = {t: index.token_text(t).lower() for t in range(s.token_start, s.token_end)}
            groups = level_groups(s, levels, words)
            attach_sentence(index, s, groups, inherited=False)
            # an implant log's lines stand alone: "screws x 8 (T11, T12, L2, L3)" does not place the next
            # line's "PMMA bone cement, 1 kit"
            current = None if s.section in LINE_ITEM_SECTIONS else groups
        elif any(m.label == Cue.ALL_LEVELS for m in s.mentions):
            attach_sentence(index, s, None, inherited=False)
        else:
            attach_sentence(index, s, current, inherited=current is not None)


def subject_levels(s: Sentence) -> list[Mention]:
    """The level mentions a sentence is about (not prior, planned or compared levels)."""
    has_treat = any(m.label in TREAT and is_positive(m) for m in s.mentions)
    out = []
    for m in s.mentions:
        if m.label != Cue.LEVEL or m.modifiers & NOT_SUBJECT:
            continue
        if m.is_range and not has_treat:  # "CT through C3-C5": a range is treated only when said so
            continue
        out.append(m)
    return out


def level_groups(s: Sentence, levels: list[Mention], words: dict[int, str] | None = None) -> list[list[Mention]]:
    """Consecutive level mentions with no cue between them form one group ("T11, T12 and L1")."""
    cue_tokens = sorted(m.token for m in s.mentions if m.label not in NON_SEPARATING)
    words = words or {}
    breakers = frozenset(lexicon().words("group_breakers"))
    groups: list[list[Mention]] = []
    for m in sorted(levels, key=lambda x: x.token):
        if groups:
            last = groups[-1][-1]
            between = any(last.token_end <= t < m.token for t in cue_tokens) or any(
                words.get(t) in breakers for t in range(last.token_end, m.token)
            ) or any(lv in {x for g in groups[-1] for x in g.levels} for lv in m.levels)
            broken = any(last.token_end <= b < m.token for b in s.clause_breaks)
            if not between and not broken:
                groups[-1].append(m)
                continue
        groups.append([m])
    return groups


def _item_break_between(s: Sentence, cue: Mention, group: list[Mention]) -> bool:
    lo, hi = sorted((cue.token, group[0].token))
    return any(lo <= b < hi for b in s.clause_breaks)


def _gap_words(index: NoteIndex, lo: int, hi: int) -> list[str]:
    return [w for w in (index.token_text(t).lower() for t in range(lo, hi)) if w.strip()]


def distance(index: NoteIndex, s: Sentence, cue: Mention, group: list[Mention]) -> float:
    """How far a cue is from a group of levels; 'T9 (bilateral)' and 'bilateral at T9' are adjacent."""
    if group[0].token >= cue.token_end:  # group after the cue
        lo, hi = cue.token_end, group[0].token
        gap = _gap_words(index, lo, hi)
        before = set(lexicon().words("link_words_before_level"))
        d = BEFORE_LEVEL_DISTANCE if set(gap) <= before else len(gap) + 1.0
    else:
        lo, hi = group[-1].token_end, cue.token
        gap = _gap_words(index, lo, hi)
        d = 0.0 if set(gap) <= set(lexicon().words("link_words_after_level")) else float(len(gap))
    if any(lo <= b < hi for b in s.clause_breaks):
        d += CLAUSE_BREAK_DISTANCE
    return d


def attach_sentence(index: NoteIndex, s: Sentence, subject: list[list[Mention]] | None, inherited: bool) -> None:
    """Attach the sentence's cues to its level groups (or to every level when it names none)."""
    cues = [m for m in s.mentions if m.label != Cue.LEVEL]
    if not subject:
        for c in cues:
            index.to_all.append(Attachment(c, Rank.ALL))
        return
    if inherited:
        levels = sorted({lv for g in subject for m in g for lv in m.levels}, key=level_index)
        rank = Rank.INHERITED if len(levels) == 1 else Rank.GROUP
        for c in cues:
            for lv in levels:
                index.by_level[lv].append(Attachment(c, rank))
        return
    first_token = subject[0][0].token
    # "the balloon was NOT inflated at L1, I chose to inject the cement directly": the denial is of the cavity,
    # so the level still takes the sentence's filling (a denied treatment or an abort still stops it)
    cavity_denied_only = not any(x.label in TREAT and is_negated(x) for x in s.mentions) and any(
        x.label in CAVITY and is_negated(x) for x in s.mentions)

    def stopped(m: Mention) -> bool:
        mods = m.modifiers & STOPPED
        return bool(mods) and not (cavity_denied_only and mods == {Modifier.NEGATED_EXISTENCE})

    for c in cues:
        # cues of one kind later in the sentence compete ("bilateral at T11, unilateral at T12")
        parallel = any(cue_kind(o.label) == cue_kind(c.label) and o.token > first_token for o in cues)
        if len(subject) > 1 and c.token_end <= first_token and not parallel:
            targets = [(g, Rank.GROUP) for g in subject]  # "Bilateral kyphoplasty of T12 (...) and L1 (...)"
        elif len(subject) == 1:
            targets = [(subject[0], Rank.DIRECT)]
        else:
            best = min(subject, key=lambda g: distance(index, s, c, g))
            targets = [(best, Rank.DIRECT)]
        for g, rank in targets:
            if s.section in LINE_ITEM_SECTIONS and _item_break_between(s, c, g):
                continue  # "screws (T10, T11); Confidence PMMA, 2 kits": another item of the log
            if c.label in TREAT | CAVITY and all(stopped(m) for m in g):
                continue  # "No cement was placed at T9": the cue does not treat T9
            levels = {lv for m in g for lv in m.levels}
            if len(levels) > 1 and rank == Rank.DIRECT:
                rank = Rank.GROUP
            for lv in levels:
                index.by_level[lv].append(Attachment(c, rank))
