"""Pipe tables ('| Level | Side | Biopsy | PMMA |'): a header row names columns and carries no findings;
a value such as 'yes' / 'no' / 'left' in a row becomes a cue of its column for that row's level."""

from __future__ import annotations

import re

from ..labels import Cue, Modifier
from ..lexicon import lexicon
from ..mentions import Mention, Sentence

_NUMBER = re.compile(r"^\d{1,2}(?:\.\d{1,2})?$")
_HAS_LETTER = re.compile(r"[a-z]")


def add_table_cues(sentences: list[Sentence], text: str) -> None:
    """Give each table row's cells the cues their columns mean; clear a header row's mentions."""
    header: list[str] | None = None
    for s in sentences:
        line = text[s.start : s.end]
        if not line.lstrip().startswith("|"):
            header = None
            continue
        cells = table_cells(line, s.start)
        levels = [m for m in s.mentions if m.label == Cue.LEVEL]
        if not levels:
            if any(_HAS_LETTER.search(c[2].lower()) for c in cells):
                header = [c[2].lower() for c in cells]
                s.mentions = []  # "Biopsy" in a header is a column name, not a biopsy
            continue
        if header is None:
            continue
        anchor = levels[0]
        for k, (start, end, value) in enumerate(cells):
            if k >= len(header):
                continue
            if lexicon().regex("table_fill_column").search(header[k]):
                # "| PMMA (mL) |": the row's volume is filler in the row's level
                has_volume = any(start <= m.start < end and m.label == Cue.VOLUME for m in s.mentions)
                if not has_volume and _NUMBER.match(value.strip()):
                    s.mentions.append(_cell(s, anchor, start, end, text, Cue.VOLUME, header[k]))
                    has_volume = True
                if has_volume:
                    s.mentions.append(_cell(s, anchor, start, end, text, Cue.CEMENT_GENERIC, header[k]))
                continue
            if any(start <= m.start < end for m in s.mentions):
                continue
            for label, modifiers in cell_cues(header[k], value.strip().lower()):
                s.mentions.append(_cell(s, anchor, start, end, text, label, header[k], modifiers))


def table_cells(line: str, offset: int) -> list[tuple[int, int, str]]:
    """(start, end, stripped value) of each cell of a '|'-separated line."""
    out, pos = [], 0
    parts = line.split("|")
    for part in parts[1:-1] if line.rstrip().endswith("|") else parts[1:]:
        start = line.index(part, pos) if part else pos
        out.append((offset + start, offset + start + len(part), part.strip()))
        pos = start + len(part)
    return out


def _cell(s: Sentence, anchor: Mention, start: int, end: int, text: str, label: str, column: str,
          modifiers: frozenset[str] = frozenset()) -> Mention:
    # trim the cell's padding so the evidence quotes the value itself
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Mention(str(label), start, end, text[start:end], f"table column {column}", s.index, anchor.token_end,
                   anchor.token_end, s.section, modifiers)


def cell_cues(column: str, value: str) -> list[tuple[str, frozenset[str]]]:
    """The cues a cell value means in its column: a biopsy done or not, an approach, a side."""
    lex = lexicon()
    out: list[tuple[str, frozenset[str]]] = []
    if lex.regex("table_biopsy_column").search(column):
        if lex.regex("table_yes").match(value):
            out.append((Cue.BIOPSY, frozenset()))
        elif lex.regex("table_no").match(value):
            out.append((Cue.BIOPSY, frozenset({Modifier.NEGATED_EXISTENCE.value})))
    if lex.regex("table_side_column").search(column):
        if lex.regex("table_bilateral").search(value):
            out.append((Cue.APPROACH_BI, frozenset()))
        elif lex.regex("table_unilateral").search(value):
            out.append((Cue.APPROACH_UNI, frozenset()))
        if lex.regex("table_left").match(value) or lex.regex("table_right").match(value):
            out.append((Cue.SIDE, frozenset()))
    return out
