"""Biopsy: per treated level, bodies biopsied but not treated, and a biopsy stated without a level."""

from __future__ import annotations

from ..concerns import ConcernCode
from ..facts import BiopsyLevel, LevelFacts, level_index
from ..labels import Cue
from .cues import NOT_SUBJECT, is_positive
from .guidance import decide_guidance
from .note_index import Attachment, NoteIndex, Rank, as_evidence, dedupe_evidence, positive_cues
from .section_roles import BIOPSY_SECTIONS

BIOPSY_EVIDENCE = 2  # evidence items kept per biopsied level


def biopsy_cues(attachments: list[Attachment]) -> list[Attachment]:
    """Positive biopsy cues said of this level or its group, in a section that reports biopsies."""
    return [a for a in positive_cues(attachments, {Cue.BIOPSY})
            if a.rank >= Rank.GROUP and a.mention.section in BIOPSY_SECTIONS]


def biopsy_only_levels(index: NoteIndex, treated: set[str], imaging: list[str]) -> list[BiopsyLevel]:
    """Bodies biopsied in this session and not treated (the sacrum is never one)."""
    out = []
    for level in sorted(index.level_mentions, key=level_index):
        if level in treated or level == "sacrum":
            continue
        cues = biopsy_cues(index.by_level[level])
        if not cues:
            continue
        if not any(m.section in BIOPSY_SECTIONS and not (m.modifiers & NOT_SUBJECT)
                   for m in index.level_mentions[level]):
            continue
        out.append(BiopsyLevel(level, decide_guidance(index.by_level[level], imaging),
                               [as_evidence(cues[0].mention, "BIOPSY")]))
    return out


def place_unlevelled_biopsy(index: NoteIndex, treated: list[LevelFacts], biopsy_only: list[BiopsyLevel]) -> None:
    """A biopsy stated without a level belongs to the only treated level, else it needs a coder."""
    unplaced = [a for a in index.to_all if a.mention.label == Cue.BIOPSY and is_positive(a.mention)
                and a.mention.section in BIOPSY_SECTIONS]
    if not unplaced or any(p.biopsy for p in treated) or biopsy_only:
        return
    if len(treated) == 1:
        treated[0].biopsy = True
        treated[0].evidence = dedupe_evidence(treated[0].evidence + [as_evidence(unplaced[0].mention, "BIOPSY")])
    elif treated:
        index.concern(ConcernCode.BIOPSY_LEVEL_NOT_STATED,
                      "a biopsy is documented but the level it came from is not stated")
