"""Doc → plain mention records: the only place that reads spaCy/medspaCy annotations.

Everything downstream (assemble.py) works on these records, so the decision logic is plain Python,
testable and picklable.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.tokens import Doc

from spacy.attrs import ORTH

from .doc_text import doc_text, token_bounds
from .levels import parse_levels


@dataclass(frozen=True)
class Mention:
    label: str  # target category from patterns/targets.json, e.g. LEVEL, CEMENT_PMMA, BIOPSY
    start: int  # character offsets into the note
    end: int
    text: str
    literal: str  # the rule's literal (a readable name of what matched)
    sent: int  # index of the sentence
    token: int  # index of the first token (for distances inside a sentence)
    token_end: int
    section: str | None
    modifiers: frozenset[str] = frozenset()
    levels: tuple[str, ...] = ()  # canonical levels, for LEVEL mentions

    @property
    def is_range(self) -> bool:
        return len(self.levels) > 1


@dataclass
class Sentence:
    index: int
    start: int
    end: int
    section: str | None
    token_start: int
    token_end: int
    mentions: list[Mention] = field(default_factory=list)
    clause_breaks: tuple[int, ...] = ()  # token indices of ';' inside the sentence


def _token_sections(doc: Doc) -> list[str | None]:
    """The section category of every token, as `token._.section_category` gives it (the last section
    whose span holds the token), read from `doc._.sections` in one pass."""
    categories: list[str | None] = [None] * len(doc)
    for section in doc._.sections or ():
        start, end = section.section_span
        categories[start:end] = [section.category] * (end - start)
    return categories


def token_texts(doc: Doc) -> list[str]:
    """Every token's text, from one array call and the kept note text (no Token objects)."""
    note = doc_text(doc)
    return [note[start:end] for start, end in zip(*token_bounds(doc))]


def doc_to_sentences(doc: Doc, text: str | None = None) -> list[Sentence]:
    """text: the note as given (the Doc holds the normalised copy; evidence must quote the original)."""
    original = doc_text(doc) if text is None else text
    sections = _token_sections(doc) if doc.has_extension("sections") else [None] * len(doc)
    semicolon = doc.vocab.strings[";"]
    semicolons = [i for i, orth in enumerate(doc.to_array([ORTH]).tolist()) if orth == semicolon]
    sentences: list[Sentence] = []
    sent_starts: list[int] = []
    for k, sent in enumerate(doc.sents):
        first, last = bisect_left(semicolons, sent.start), bisect_left(semicolons, sent.end)
        sentences.append(
            Sentence(k, sent.start_char, sent.end_char, sections[sent.start], sent.start, sent.end, [],
                     tuple(semicolons[first:last]))
        )
        sent_starts.append(sent.start)

    def sent_of_token(i: int) -> int | None:
        return bisect_right(sent_starts, i) - 1 if 0 <= i < len(doc) else None

    for ent in doc.ents:
        k = sent_of_token(ent.start)
        # a rule with max_scope looks at a token window that can cross sentences; keep only
        # modifiers whose trigger is in the target's own sentence
        modifiers = frozenset(
            m.category for m in ent._.modifiers if sent_of_token(m.modifier_span[0]) == k
        )
        literal = ent._.literal or ent.label_
        levels: tuple[str, ...] = ()
        label = ent.label_
        if label == "LEVEL":
            levels = parse_levels(ent.text)
            if not levels:
                continue
        mention = Mention(
            label=label,
            start=ent.start_char,
            end=ent.end_char,
            text=original[ent.start_char : ent.end_char],
            literal=literal,
            sent=k,
            token=ent.start,
            token_end=ent.end,
            section=sections[ent.start],
            modifiers=modifiers,
            levels=levels,
        )
        sentences[k].mentions.append(mention)
        if label == "PROC_SACRO":  # "sacroplasty" names its level
            sentences[k].mentions.append(
                Mention("LEVEL", mention.start, mention.end, mention.text, "sacroplasty", k, ent.start,
                        ent.end, mention.section, modifiers, ("sacrum",))
            )
    _table_rows(sentences, original)
    return sentences


_HEADER_KINDS = (
    (re.compile(r"biops|\bbx\b|specimen|core"), "BIOPSY"),
    (re.compile(r"\bside\b|laterality|access|approach|needle"), "SIDE"),
)
_NUMBER = re.compile(r"^\d{1,2}(?:\.\d{1,2})?$")
_FILL_COLUMN = re.compile(r"pmma|cement|filler|volume|\bml\b|\bcc\b|graft")
_YES = re.compile(r"^(?:y|yes|x|done|performed|obtained|sent|\u2713|\+|\d+\s*cores?.*|yes\b.*)$")
_NO = re.compile(r"^(?:n|no|none|not\s+done|nil|-+|\u2014|n/a|0|deferred|no\b.*)$")


def _table_rows(sentences: list[Sentence], text: str) -> None:
    """Pipe tables ('| Level | Side | Biopsy | PMMA |'): a header row names columns and carries no
    findings; a value such as 'yes'/'no'/'left' in a row becomes a cue of its column for that row."""
    header: list[str] | None = None
    for s in sentences:
        line = text[s.start : s.end]
        if not line.lstrip().startswith("|"):
            header = None
            continue
        cells = _cells(line, s.start)
        levels = [m for m in s.mentions if m.label == "LEVEL"]
        if not levels:
            if any(re.search(r"[a-z]", c[2].lower()) for c in cells):
                header = [c[2].lower() for c in cells]
                s.mentions = []  # "Biopsy" in a header is a column name, not a biopsy
            continue
        if header is None:
            continue
        anchor = levels[0]
        for k, (start, end, value) in enumerate(cells):
            if k >= len(header):
                continue
            if _FILL_COLUMN.search(header[k]):  # "| PMMA (mL) |": the row's volume is filler in the row's level
                has_volume = any(start <= m.start < end and m.label == "VOLUME" for m in s.mentions)
                if not has_volume and _NUMBER.match(value.strip()):
                    s.mentions.append(_cell(s, anchor, start, end, text, "VOLUME", header[k]))
                    has_volume = True
                if has_volume:
                    s.mentions.append(_cell(s, anchor, start, end, text, "CEMENT_GENERIC", header[k]))
                continue
            if any(start <= m.start < end for m in s.mentions):
                continue
            for label, modifiers in _cell_cues(header[k], value.strip().lower()):
                s.mentions.append(_cell(s, anchor, start, end, text, label, header[k], modifiers))


def _cells(line: str, offset: int) -> list[tuple[int, int, str]]:
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
    return Mention(label, start, end, text[start:end], f"table column {column}", s.index, anchor.token_end,
                   anchor.token_end, s.section, modifiers)


def _cell_cues(column: str, value: str) -> list[tuple[str, frozenset[str]]]:
    out: list[tuple[str, frozenset[str]]] = []
    for pattern, kind in _HEADER_KINDS:
        if not pattern.search(column):
            continue
        if kind == "BIOPSY" and _YES.match(value):
            out.append(("BIOPSY", frozenset()))
        elif kind == "BIOPSY" and _NO.match(value):
            out.append(("BIOPSY", frozenset({"NEGATED_EXISTENCE"})))
        elif kind == "SIDE":
            if re.search(r"bilat|bipedic|both|\bb/l\b", value):
                out.append(("APPROACH_BI", frozenset()))
            elif re.search(r"unilat|unipedic|\bonly\b|single|alone", value):
                out.append(("APPROACH_UNI", frozenset()))
            if re.match(r"(?:left|lt|l)\b", value) or re.match(r"(?:right|rt|r)\b", value):
                out.append(("SIDE", frozenset()))
    return out
