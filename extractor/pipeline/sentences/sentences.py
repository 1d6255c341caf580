"""Sentence boundaries for clinical notes.

spaCy's sentencizer splits on punctuation only; notes also break at headings, list items, per-level
labels ("T12:") and blank lines, while hard-wrapped lines must NOT break. PyRuSH does this but is
slow (≈ 85 % of a stock medspaCy pipeline's time) and logs note text, so we use these rules.
"""

import numpy
from spacy.attrs import IDX, IS_ALPHA, IS_LOWER, IS_SPACE, IS_TITLE, LENGTH, SENT_START
from spacy.language import Language
from spacy.tokens import Doc

from ..doc_text import doc_text
from .patterns import ABBREVIATIONS, LEVEL_LABEL, LIST_MARK, TERMINAL


class ClinicalSentences:
    """Marks sentence starts; no state besides constants, so it pickles trivially."""

    def __init__(self, nlp: Language, name: str = "spinecode_sentences"):
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        n = len(doc)
        if n == 0:
            return doc
        # plain lists from one array call and the text: Token objects are costly to create, and this
        # loop looks back often
        note = doc_text(doc)
        starts_, lengths, is_space, is_title, is_alpha, is_lower = (
            doc.to_array([IDX, LENGTH, IS_SPACE, IS_TITLE, IS_ALPHA, IS_LOWER]).T.tolist()
        )
        ends_ = [start + length for start, length in zip(starts_, lengths)]
        texts = [note[start:end] for start, end in zip(starts_, ends_)]
        spaces = [note[end:start] for end, start in zip(ends_, starts_[1:] + [len(note)])]
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
                    prev in TERMINAL
                    or LIST_MARK.match(text)
                    or (text.isdigit() and len(text) <= 2 and nxt in (")", "."))
                    or (LEVEL_LABEL.match(text) and nxt == ":")
                    # a row of a whitespace-aligned table: "T7      left unipedicular      2.0"
                    or (LEVEL_LABEL.match(text) and i + 1 < n and is_space[i + 1])
                    or (text.isupper() and len(text) > 2 and prev in TERMINAL)
                    or (is_title[i] and prev in TERMINAL)
                ):
                    starts[i] = True
            elif prev in {".", "!", "?"}:
                before = texts[j - 1].lower() if j > 0 else ""
                if before not in ABBREVIATIONS and not (len(before) == 1 and before.isalpha() and spaces[j] == ""):
                    # dictated headings ("biopsy. none, patient declined") stay with their value
                    words = sum(is_alpha[last_start:j]) if j - last_start < 4 else 9
                    starts[i] = not (words <= 1 and is_lower[i] and is_alpha[i])
            elif LIST_MARK.match(text) and text[0].isdigit() and prev in TERMINAL:
                starts[i] = True
        # one call: the per-token `is_sent_start` setter checks the whole doc's annotation each time
        values = numpy.array([1 if start else -1 for start in starts], dtype=numpy.int64).view(numpy.uint64)
        doc.from_array([SENT_START], values)
        return doc
