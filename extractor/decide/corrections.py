"""Addendum corrections: 'ADDENDUM: the treated level was L3, not L2' renames L2 → L3 everywhere else."""

from __future__ import annotations

from dataclasses import replace

from ..labels import Cue, Modifier, Section
from ..lexicon import lexicon
from ..mentions import Mention
from .cues import NEGATING, NOT_SUBJECT
from .note_index import NoteIndex


def apply_addendum_corrections(index: NoteIndex) -> None:
    """Rename corrected levels in the body and drop the addendum's own level mentions of them."""
    old: list[str] = []
    new: list[str] = []
    for s in index.sentences:
        if s.section != Section.ADDENDUM:
            continue
        for m in s.mentions:
            if m.label != Cue.LEVEL or len(m.levels) != 1:
                continue
            if m.modifiers & (NEGATING | {Modifier.CORRECTED}):
                old.append(m.levels[0])
            elif not m.modifiers & (NOT_SUBJECT - {Modifier.HYPOTHETICAL}):  # "should read L3" names the new level
                new.append(m.levels[0])
    old = list(dict.fromkeys(old))
    new = [lv for lv in dict.fromkeys(new) if lv not in old]
    mapping = dict(zip(old, new)) or correction_by_contrast(index)
    if not mapping:
        return
    index.corrected = set(mapping)
    for s in index.sentences:
        if s.section == Section.ADDENDUM:
            for m in s.mentions:
                if m.label == Cue.LEVEL and m.levels and m.levels[0] in mapping:
                    index.correction_evidence.setdefault(m.levels[0], m)
            s.mentions = [
                m for m in s.mentions if not (m.label == Cue.LEVEL and m.levels and m.levels[0] in mapping)
            ]
            continue
        s.mentions = [
            renamed(m, mapping) if m.label == Cue.LEVEL and set(m.levels) & set(mapping) else m
            for m in s.mentions
        ]


def correction_by_contrast(index: NoteIndex) -> dict[str, str]:
    """An addendum that speaks of an error and names a level the body treats (old) and one the body
    never mentions (new): '"L2" above was a dictation error; please read L3'."""
    addendum = [s for s in index.sentences if s.section == Section.ADDENDUM]
    correction_words = lexicon().regex("correction_words")
    if not addendum or not any(correction_words.search(index.sentence_text(s)) for s in addendum):
        return {}
    body_levels = {lv for s in index.sentences if s.section != Section.ADDENDUM
                   for m in s.mentions if m.label == Cue.LEVEL for lv in m.levels}
    named = [m.levels[0] for s in addendum for m in s.mentions
             if m.label == Cue.LEVEL and len(m.levels) == 1 and m.levels[0] != "sacrum"]
    old = [lv for lv in dict.fromkeys(named) if lv in body_levels]
    new = [lv for lv in dict.fromkeys(named) if lv not in body_levels]
    return dict(zip(old, new)) if len(old) == len(new) == 1 else {}


def renamed(m: Mention, mapping: dict[str, str]) -> Mention:
    return replace(m, levels=tuple(mapping.get(x, x) for x in m.levels))
