"""Sentence boundaries for clinical notes.

spaCy's sentencizer splits on punctuation only; notes also break at headings, list items, per-level
labels ("T12:") and blank lines, while hard-wrapped lines must NOT break. PyRuSH does this but is
slow (≈ 85 % of a stock medspaCy pipeline's time) and logs note text, so we use these rules.
"""

import re

import numpy
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc

_ABBREVIATIONS = frozenset(
    ["dr", "mr", "mrs", "ms", "vs", "e.g", "i.e", "approx", "st", "no", "fig", "pt", "etc", "cf", "al", "inc", "ca", "jr", "sr", "prof", "dept"]
)
_LIST_MARK = re.compile(r"^(?:\d{1,2}[.)]|[-*#>|]|\[[ xX]?\]|[a-z][.)])$")
_LEVEL_LABEL = re.compile(r"^(?:[CTLDS]-?\s?\d{1,2}|sacrum|sacroplasty)$", re.IGNORECASE)
_TERMINAL = {".", "!", "?", ":", ";"}


@Language.factory("spinecode_sentences")
class ClinicalSentences:
    """Marks sentence starts; no state besides constants, so it pickles trivially."""

    def __init__(self, nlp: Language, name: str = "spinecode_sentences"):
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        n = len(doc)
        if n == 0:
            return doc
        # plain lists once per doc: Token objects are costly to create, and this loop looks back often
        texts = [t.text for t in doc]
        spaces = [t.whitespace_ for t in doc]
        is_space = [t.is_space for t in doc]
        newlines = [texts[k].count("\n") + spaces[k].count("\n") for k in range(n)]
        starts = [False] * n
        starts[0] = True
        heading_starts: set[int] = set()
        heading_ends: set[int] = set()
        if doc.has_extension("sections"):
            for section in doc._.sections:
                if section.title_end > section.title_start:
                    heading_starts.add(section.title_start)
                    heading_ends.add(section.title_end)
        last_start = 0
        for i in range(1, n):
            if starts[i - 1]:
                last_start = i - 1
            if i in heading_starts:
                starts[i] = True
                continue
            if i in heading_ends:  # "Biopsy: none" stays one sentence, so its negation reaches the cue
                continue
            if is_space[i]:
                continue
            text = texts[i]
            # previous non-space token
            j = i - 1
            while j > 0 and is_space[j]:
                j -= 1
            prev = texts[j]
            breaks = sum(newlines[j:i])
            if breaks >= 2:  # blank line
                starts[i] = True
            elif breaks:
                nxt = texts[i + 1] if i + 1 < n else ""
                if (
                    prev in _TERMINAL
                    or _LIST_MARK.match(text)
                    or (text.isdigit() and len(text) <= 2 and nxt in (")", "."))
                    or (_LEVEL_LABEL.match(text) and nxt == ":")
                    or (text.isupper() and len(text) > 2 and prev in _TERMINAL)
                    or (doc[i].is_title and prev in _TERMINAL)
                ):
                    starts[i] = True
            elif prev in {".", "!", "?"}:
                before = texts[j - 1].lower() if j > 0 else ""
                if before not in _ABBREVIATIONS and not (len(before) == 1 and before.isalpha() and spaces[j] == ""):
                    # dictated headings ("biopsy. none, patient declined") stay with their value
                    words = sum(1 for k in range(last_start, j) if doc[k].is_alpha) if j - last_start < 4 else 9
                    starts[i] = not (words <= 1 and doc[i].is_lower and doc[i].is_alpha)
            elif _LIST_MARK.match(text) and text[0].isdigit() and prev in _TERMINAL:
                starts[i] = True
        # one call: the per-token `is_sent_start` setter checks the whole doc's annotation each time
        values = numpy.array([1 if start else -1 for start in starts], dtype=numpy.int64).view(numpy.uint64)
        doc.from_array([SENT_START], values)
        return doc
