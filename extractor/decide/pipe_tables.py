"""Tables of levels: pipe tables ('| Level | Side | Biopsy | PMMA |') and whitespace-aligned ones
('LEVEL   APPROACH   PMMA (mL)' over 'T7   left unipedicular   2.0'). A header row names columns and
carries no findings; a value such as 'yes' / 'no' / 'left' / '2.0' in a row becomes a cue of its column
for that row's level. A zero or empty volume is no filler."""

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
    columns: list[int] | None = None  # an aligned table's column starts, relative to the line's start
    for s in sentences:
        line = text[s.start : s.end]
        levels = [m for m in s.mentions if m.label == Cue.LEVEL]
        if line.lstrip().startswith("|"):
            columns = None
            cells = table_cells(line, s.start)
        elif not levels and (aligned := _aligned_header(line)):
            header = [name.lower() for _, name in aligned]
            columns = [start for start, _ in aligned]
            s.mentions = []  # "PMMA (mL)" in a header is a column name
            continue
        elif columns is not None and levels and levels[0].start == s.start + len(line) - len(line.lstrip()):
            cells = aligned_cells(line, s.start, columns)
        else:
            header = columns = None
            continue
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
                if not has_volume and _NUMBER.match(value.strip()) and float(value) > 0:
                    s.mentions.append(_cell(s, anchor, start, end, text, Cue.VOLUME, header[k]))
                    has_volume = True
                if has_volume:
                    s.mentions.append(_cell(s, anchor, start, end, text, Cue.CEMENT_GENERIC, header[k]))
                continue
            if any(start <= m.start < end for m in s.mentions):
                continue
            for label, modifiers in cell_cues(header[k], value.strip().lower()):
                s.mentions.append(_cell(s, anchor, start, end, text, label, header[k], modifiers))


_CELL_GAP = re.compile(r"\S+(?: \S+)*")  # a cell: words one space apart; cells two or more spaces apart


def _aligned_header(line: str) -> list[tuple[int, str]]:
    """(start, name) of each column of an aligned header's first line ("LEVEL   APPROACH   PMMA (mL)"): at
    least three names apart by two spaces or more, one of them a filler, side or biopsy column; else []."""
    first = line.split("\n", 1)[0]
    cells = [(m.start(), m.group()) for m in _CELL_GAP.finditer(first)]
    # column names are short and are not sentences ("PMMA (mL)", not "No cement leakage.")
    if len(cells) < 3 or any(len(name.split()) > 3 or name.endswith((".", ",", ";")) for _, name in cells):
        return []
    lex = lexicon()
    if not any(lex.regex(column).search(name.lower()) for _, name in cells
               for column in ("table_fill_column", "table_side_column", "table_biopsy_column")):
        return []
    return cells


def aligned_cells(line: str, offset: int, columns: list[int]) -> list[tuple[int, int, str]]:
    """(start, end, stripped value) of each cell of an aligned row's first line, cut at the header's columns."""
    first = line.split("\n", 1)[0]
    bounds = columns[1:] + [len(first)]
    return [(offset + a, offset + max(a, min(b, len(first))), first[a:b].strip()) for a, b in zip(columns, bounds)]


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
