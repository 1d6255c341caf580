"""Doc → plain mention records: the only place that reads spaCy/medspaCy annotations.

Everything downstream (extractor/decide/) works on these records, so the decision logic is plain Python,
testable and picklable.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.tokens import Doc

from spacy.attrs import ORTH

from .levels import parse_levels
from .pipeline.doc_text import doc_text, token_bounds


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
    return sentences

