"""The working index of one note: its sentences, the cues attached to each level, and the concerns raised.

Attachment (attachment.py) fills it; corrections, attributes and treated levels read it. Every
attachment keeps a rank, how specific the statement was, so "the more specific statement wins" is a
rule and each decision can show the words behind it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import IntEnum

from ..concerns import Concern, ConcernCode, add_concern
from ..facts import Evidence
from ..mentions import Mention, Sentence
from .cues import is_negated, is_positive

TOTAL_WINDOW = 24  # characters before a volume in which "total" makes it a total ("Total PMMA: 12 mL")


class Rank(IntEnum):
    """How specific an attachment is; a higher rank outranks a lower one."""

    ALL = 1  # a statement that names no level
    GROUP = 2  # a statement about several named levels
    INHERITED = 3  # a later sentence of a one-level block
    DIRECT = 4  # the cue sits next to one level


@dataclass(frozen=True)
class Attachment:
    mention: Mention
    rank: int


class NoteIndex:
    """Working state for one note."""

    def __init__(self, sentences: list[Sentence], text: str, token_text: Callable[[int], str]):
        self.sentences = sentences
        self.text = text  # the note as given
        self.token_text = token_text  # token index -> token text (for link words)
        self.by_level: dict[str, list[Attachment]] = defaultdict(list)
        self.to_all: list[Attachment] = []
        self.level_mentions: dict[str, list[Mention]] = defaultdict(list)
        self.corrected: set[str] = set()
        self.correction_evidence: dict[str, Mention] = {}  # corrected level -> the addendum's mention of it
        self.concerns: list[Concern] = []

    def is_total(self, m: Mention) -> bool:
        """'total 7.0 mL', 'Total PMMA: 12 mL'."""
        return "total" in self.text[max(0, m.start - TOTAL_WINDOW) : m.start].lower()

    def in_parens(self, m: Mention) -> bool:
        """'2.0 mL per side (4.0 mL)'."""
        return self.text[max(0, m.start - 2) : m.start].strip().endswith("(")

    def sentence_text(self, s: Sentence) -> str:
        return self.text[s.start : s.end]

    def sentence_of(self, m: Mention) -> Sentence:
        return self.sentences[m.sent]

    def concern(self, code: ConcernCode, message: str, *levels: str) -> None:
        add_concern(self.concerns, Concern(code, message, levels))


def most_specific(attachments: list[Attachment]) -> list[Attachment]:
    """The attachments of the highest rank."""
    if not attachments:
        return []
    top = max(a.rank for a in attachments)
    return [a for a in attachments if a.rank == top]


def positive_cues(attachments: Iterable[Attachment], labels) -> list[Attachment]:
    return [a for a in attachments if a.mention.label in labels and is_positive(a.mention)]


def negated_cues(attachments: Iterable[Attachment], labels) -> list[Attachment]:
    return [a for a in attachments if a.mention.label in labels and is_negated(a.mention)]


def as_evidence(m: Mention, label: str) -> Evidence:
    return Evidence(m.start, m.end, m.text, label, m.section)


def dedupe_evidence(evidence: list[Evidence]) -> list[Evidence]:
    """Evidence in text order, each span and label once."""
    seen, out = set(), []
    for e in sorted(evidence, key=lambda e: (e.start, e.end, e.label)):
        if (e.start, e.end, e.label) not in seen:
            seen.add((e.start, e.end, e.label))
            out.append(e)
    return out
