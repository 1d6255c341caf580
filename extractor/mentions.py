"""Doc → plain mention records: the only place that reads spaCy/medspaCy annotations.

Everything downstream (assemble.py) works on these records, so the decision logic is plain Python,
testable and picklable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.tokens import Doc

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


def _section_of(doc: Doc, token_index: int) -> str | None:
    return doc[token_index]._.section_category


def doc_to_sentences(doc: Doc, text: str | None = None) -> list[Sentence]:
    """text: the note as given (the Doc holds the normalised copy; evidence must quote the original)."""
    original = doc.text if text is None else text
    sentences: list[Sentence] = []
    sent_of_token: dict[int, int] = {}
    for k, sent in enumerate(doc.sents):
        section = _section_of(doc, sent.start)
        breaks = tuple(t.i for t in sent if t.text == ";")
        sentences.append(
            Sentence(k, sent.start_char, sent.end_char, section, sent.start, sent.end, [], breaks)
        )
        for t in range(sent.start, sent.end):
            sent_of_token[t] = k
    for ent in doc.ents:
        k = sent_of_token.get(ent.start, 0)
        # a rule with max_scope looks at a token window that can cross sentences; keep only
        # modifiers whose trigger is in the target's own sentence
        modifiers = frozenset(
            m.category for m in ent._.modifiers if sent_of_token.get(m.modifier_span[0]) == k
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
            section=_section_of(doc, ent.start),
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
