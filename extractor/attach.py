"""Attachment: which level each cue of a sentence speaks about.

The hard part of reading these notes is attachment, not recognition: "bilateral", "balloon", "4 mL
PMMA", "biopsy" must land on the right level. Notes state attributes three ways and each is handled:
1. per-level statements and blocks ("T12: ... A unilateral left approach was used. ..."): a sentence
   that names levels sets the subject; following sentences without a level inherit it;
2. global statements ("at each level", a header naming several levels, a sentence before any level):
   apply to every treated level;
3. exceptions: a more specific statement outranks a general one, and among equals the later wins.
Every attachment keeps a rank (how specific it was), so each decision downstream is explainable.
Plain Python over `mentions.Sentence` records (no spaCy).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from .facts import Evidence, level_index
from .mentions import Mention, Sentence

# sections whose sentences describe what was done in this session
PROCEDURAL = frozenset({None, "procedure_title", "technique", "impression", "addendum", "implants"})
BIOPSY_SECTIONS = PROCEDURAL | {"specimens"}
NEGATION_SECTIONS = PROCEDURAL | {"complications", "findings", "specimens"}
IMAGING_SECTIONS = PROCEDURAL | {"findings", "complications"}
NOT_NOW_SECTIONS = frozenset({"history", "comparison", "plan", "planned", "diagnosis", "assessment"})

NEGATING = frozenset({"NEGATED_EXISTENCE", "NOT_TREATED"})
NOT_POSITIVE = frozenset(
    {"NEGATED_EXISTENCE", "NOT_TREATED", "HISTORICAL", "HYPOTHETICAL", "ABORTED", "FINDING", "REFERENCE", "CORRECTED"}
)
NOT_SUBJECT = frozenset({"HISTORICAL", "HYPOTHETICAL", "REFERENCE", "FINDING"})

FILL = frozenset({"FILL_VERB", "CEMENT_PMMA", "CEMENT_GRAFT", "CEMENT_SUBST", "CEMENT_GENERIC"})
PROC = frozenset({"PROC_VP", "PROC_AUG", "PROC_SACRO"})
TREAT = FILL | PROC | {"CONVERT_VP"}
# cues whose negation means "nothing was delivered" ("no cement was injected", "vertebroplasty not performed")
DELIVERY_NAMES = PROC | {"FILL_VERB"}
CAVITY = frozenset({"CAVITY_BALLOON", "CAVITY_MECH", "CAVITY_ANY", "INFLATE"})
CEMENT_TYPES = {"CEMENT_PMMA": "pmma", "CEMENT_GRAFT": "bone_graft", "CEMENT_SUBST": "bone_substitute"}
NON_SEPARATING = frozenset({"LEVEL", "NEEDLE", "SESSION"})
STOPPED = NEGATING | {"ABORTED"}

# how specific an attachment is
RANK_DIRECT = 4  # the cue sits next to one level
RANK_INHERITED = 3  # a later sentence of a one-level block
RANK_GROUP = 2  # a statement about several named levels
RANK_ALL = 1  # a statement that names no level


def positive(m: Mention) -> bool:
    return not (m.modifiers & NOT_POSITIVE)


def negated(m: Mention) -> bool:
    return bool(m.modifiers & NEGATING) and "HYPOTHETICAL" not in m.modifiers


@dataclass(frozen=True)
class Attached:
    mention: Mention
    rank: int


@dataclass
class _Concern:
    message: str
    review: bool


class _Note:
    """Working state for one note."""

    def __init__(self, sentences: list[Sentence], text: str, text_of):
        self.sentences = sentences
        self.text = text  # the note as given
        self.text_of = text_of  # token index -> token text (for link words)
        self.by_level: dict[str, list[Attached]] = defaultdict(list)
        self.to_all: list[Attached] = []
        self.level_mentions: dict[str, list[Mention]] = defaultdict(list)
        self.corrected: set[str] = set()
        self.concerns: list[_Concern] = []

    def is_total(self, m: Mention) -> bool:
        """'total 7.0 mL', 'Total PMMA: 12 mL'."""
        return "total" in self.text[max(0, m.start - 24) : m.start].lower()

    def in_parens(self, m: Mention) -> bool:
        """'2.0 mL per side (4.0 mL)'."""
        return self.text[max(0, m.start - 2) : m.start].strip().endswith("(")

    def sentence_text(self, s: Sentence) -> str:
        return self.text[s.start : s.end]

    def concern(self, message: str, review: bool) -> None:
        if all(c.message != message for c in self.concerns):
            self.concerns.append(_Concern(message, review))


# ---------------------------------------------------------------- addendum corrections


def _apply_addendum_corrections(note: _Note) -> None:
    """'ADDENDUM: the treated level was L3, not L2' renames L2 → L3 everywhere else."""
    old: list[str] = []
    new: list[str] = []
    for s in note.sentences:
        if s.section != "addendum":
            continue
        for m in s.mentions:
            if m.label != "LEVEL" or len(m.levels) != 1:
                continue
            if m.modifiers & (NEGATING | {"CORRECTED"}):
                old.append(m.levels[0])
            elif not m.modifiers & (NOT_SUBJECT - {"HYPOTHETICAL"}):  # "should read L3" names the new level
                new.append(m.levels[0])
    old = list(dict.fromkeys(old))
    new = [lv for lv in dict.fromkeys(new) if lv not in old]
    mapping = dict(zip(old, new)) or _correction_by_contrast(note)
    if not mapping:
        return
    note.corrected = set(mapping)
    for s in note.sentences:
        if s.section == "addendum":
            s.mentions = [
                m for m in s.mentions if not (m.label == "LEVEL" and m.levels and m.levels[0] in mapping)
            ]
            continue
        s.mentions = [
            _renamed(m, mapping) if m.label == "LEVEL" and set(m.levels) & set(mapping) else m
            for m in s.mentions
        ]


_CORRECTION_WORDS = re.compile(
    r"\b(?:error|erroneous|incorrect|wrong|should\s+read|please\s+read|read\s+as|correct(?:ed|ion)?\s+level|"
    r"actually|in\s+fact|mislabel|misidentif|recount)", re.IGNORECASE)


def _correction_by_contrast(note: _Note) -> dict[str, str]:
    """An addendum that speaks of an error and names a level the body treats (old) and one the body
    never mentions (new): '"L2" above was a dictation error; please read L3'."""
    addendum = [s for s in note.sentences if s.section == "addendum"]
    if not addendum or not any(_CORRECTION_WORDS.search(note.sentence_text(s)) for s in addendum):
        return {}
    body_levels = {lv for s in note.sentences if s.section != "addendum"
                   for m in s.mentions if m.label == "LEVEL" for lv in m.levels}
    named = [m.levels[0] for s in addendum for m in s.mentions
             if m.label == "LEVEL" and len(m.levels) == 1 and m.levels[0] != "sacrum"]
    old = [lv for lv in dict.fromkeys(named) if lv in body_levels]
    new = [lv for lv in dict.fromkeys(named) if lv not in body_levels]
    return dict(zip(old, new)) if len(old) == len(new) == 1 else {}


def _renamed(m: Mention, mapping: dict[str, str]) -> Mention:
    levels = tuple(mapping.get(x, x) for x in m.levels)
    return Mention(m.label, m.start, m.end, m.text, m.literal, m.sent, m.token, m.token_end, m.section,
                   m.modifiers, levels)


# ---------------------------------------------------------------- attachment


def _subject_levels(s: Sentence) -> list[Mention]:
    has_treat = any(m.label in TREAT and positive(m) for m in s.mentions)
    out = []
    for m in s.mentions:
        if m.label != "LEVEL" or m.modifiers & NOT_SUBJECT:
            continue
        if m.is_range and not has_treat:  # "CT through C3-C5": a range is treated only when said so
            continue
        out.append(m)
    return out


_GROUP_BREAKERS = frozenset({"with", "without", "plus", "including", "except", "but"})


def _groups(s: Sentence, levels: list[Mention], note_words: dict | None = None) -> list[list[Mention]]:
    """Consecutive level mentions with no cue between them form one group ("T11, T12 and L1")."""
    cue_tokens = sorted(m.token for m in s.mentions if m.label not in NON_SEPARATING)
    note_words = note_words or {}
    groups: list[list[Mention]] = []
    for m in sorted(levels, key=lambda x: x.token):
        if groups:
            last = groups[-1][-1]
            between = any(last.token_end <= t < m.token for t in cue_tokens) or any(
                note_words.get(t) in _GROUP_BREAKERS for t in range(last.token_end, m.token)
            ) or any(lv in {x for g in groups[-1] for x in g.levels} for lv in m.levels)
            broken = any(last.token_end <= b < m.token for b in s.clause_breaks)
            if not between and not broken:
                groups[-1].append(m)
                continue
        groups.append([m])
    return groups


_AFTER_LEVEL = frozenset({"(", ",", ":", "-", "=", "—"})
_BEFORE_LEVEL = frozenset({"at", "of", "in", "to", "on", "for", "into", "the", "level", "(", ":", "-", "only", "alone"})


def _gap(note: _Note, lo: int, hi: int) -> list[str]:
    return [w for w in (note.text_of(t).lower() for t in range(lo, hi)) if w.strip()]


def _distance(note: _Note, s: Sentence, cue: Mention, group: list[Mention]) -> float:
    """How far a cue is from a group of levels; 'T9 (bilateral)' and 'bilateral at T9' are adjacent."""
    if group[0].token >= cue.token_end:  # group after the cue
        lo, hi = cue.token_end, group[0].token
        gap = _gap(note, lo, hi)
        d = 0.5 if set(gap) <= _BEFORE_LEVEL else len(gap) + 1.0
    else:
        lo, hi = group[-1].token_end, cue.token
        gap = _gap(note, lo, hi)
        d = 0.0 if set(gap) <= _AFTER_LEVEL else float(len(gap))
    if any(lo <= b < hi for b in s.clause_breaks):
        d += 100
    return d


def _kind(m: Mention) -> str:
    """Cues of one kind compete: APPROACH_BI and APPROACH_UNI, CEMENT_PMMA and CEMENT_GRAFT, ..."""
    head = m.label.split("_")[0]
    return head if head in ("APPROACH", "CEMENT", "CAVITY", "PROC", "IMAGING") else m.label


def _attach_sentence(note: _Note, s: Sentence, subject: list[list[Mention]] | None, inherited: bool) -> None:
    cues = [m for m in s.mentions if m.label != "LEVEL"]
    if not subject:
        for c in cues:
            note.to_all.append(Attached(c, RANK_ALL))
        return
    if inherited:
        levels = sorted({lv for g in subject for m in g for lv in m.levels}, key=level_index)
        rank = RANK_INHERITED if len(levels) == 1 else RANK_GROUP
        for c in cues:
            for lv in levels:
                note.by_level[lv].append(Attached(c, rank))
        return
    first_token = subject[0][0].token
    for c in cues:
        parallel = any(_kind(o) == _kind(c) and o.token > first_token for o in cues)
        if len(subject) > 1 and c.token_end <= first_token and not parallel:
            targets = [(g, RANK_GROUP) for g in subject]  # "Bilateral kyphoplasty of T12 (...) and L1 (...)"
        elif len(subject) == 1:
            targets = [(subject[0], RANK_DIRECT)]
        else:
            best = min(subject, key=lambda g: _distance(note, s, c, g))
            targets = [(best, RANK_DIRECT)]
        for g, rank in targets:
            if c.label in TREAT | CAVITY and all(m.modifiers & STOPPED for m in g):
                continue  # "No cement was placed at T9": the cue does not treat T9
            levels = {lv for m in g for lv in m.levels}
            if len(levels) > 1 and rank == RANK_DIRECT:
                rank = RANK_GROUP
            for lv in levels:
                note.by_level[lv].append(Attached(c, rank))


def _attach(note: _Note) -> None:
    current: list[list[Mention]] | None = None
    section = object()
    for s in note.sentences:
        for m in s.mentions:
            if m.label == "LEVEL":
                for lv in m.levels:
                    note.level_mentions[lv].append(m)
        if s.section != section:
            section, current = s.section, None
        if s.section not in NEGATION_SECTIONS:
            continue
        levels = _subject_levels(s)
        named = [m for m in s.mentions if m.label == "LEVEL" and not m.is_range]
        if named and not levels:
            continue  # "after T12 kyphoplasty (5 mL PMMA)": the cues belong to a prior or planned level
        if levels:
            words = {t: note.text_of(t).lower() for t in range(s.token_start, s.token_end)}
            groups = _groups(s, levels, words)
            _attach_sentence(note, s, groups, inherited=False)
            current = groups
        elif any(m.label == "ALL_LEVELS" for m in s.mentions):
            _attach_sentence(note, s, None, inherited=False)
        else:
            _attach_sentence(note, s, current, inherited=current is not None)



# ---------------------------------------------------------------- selecting attachments



def _best(items: list[Attached]) -> list[Attached]:
    """The attachments of the highest rank."""
    if not items:
        return []
    top = max(a.rank for a in items)
    return [a for a in items if a.rank == top]


def _ev(m: Mention, label: str) -> Evidence:
    return Evidence(m.start, m.end, m.text, label, m.section)


def _pos(items: list[Attached], labels) -> list[Attached]:
    return [a for a in items if a.mention.label in labels and positive(a.mention)]


def _neg(items: list[Attached], labels) -> list[Attached]:
    return [a for a in items if a.mention.label in labels and negated(a.mention)]


