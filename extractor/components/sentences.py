"""Sentence boundaries for clinical notes.

spaCy's sentencizer splits on punctuation only; notes also break at headings, list items, per-level
labels ("T12:") and blank lines, while hard-wrapped lines must NOT break. PyRuSH does this but is
slow (≈ 85 % of a stock medspaCy pipeline's time) and logs note text, so we use these rules.
"""



import re

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
            tok = doc[i]
            if i in heading_starts:
                starts[i] = True
                continue
            if i in heading_ends:  # "Biopsy: none" stays one sentence, so its negation reaches the cue
                continue
            if tok.is_space:
                continue
            # previous non-space token
            j = i - 1
            while j > 0 and doc[j].is_space:
                j -= 1
            p = doc[j]
            newline_before = any("\n" in doc[k].text or "\n" in doc[k].whitespace_ for k in range(j, i))
            blank_line = sum(doc[k].text.count("\n") + doc[k].whitespace_.count("\n") for k in range(j, i)) >= 2
            if blank_line:
                starts[i] = True
            elif newline_before:
                nxt = doc[i + 1].text if i + 1 < n else ""
                if (
                    p.text in _TERMINAL
                    or _LIST_MARK.match(tok.text)
                    or (tok.text.isdigit() and len(tok.text) <= 2 and nxt in (")", "."))
                    or (_LEVEL_LABEL.match(tok.text) and nxt == ":")
                    or (tok.text.isupper() and len(tok.text) > 2 and p.text in _TERMINAL)
                    or (tok.is_title and p.text in _TERMINAL)
                ):
                    starts[i] = True
            elif p.text in {".", "!", "?"}:
                before = doc[j - 1].text.lower() if j > 0 else ""
                if before not in _ABBREVIATIONS and not (len(before) == 1 and before.isalpha() and p.whitespace_ == ""):
                    # dictated headings ("biopsy. none, patient declined") stay with their value
                    words = sum(1 for k in range(last_start, j) if doc[k].is_alpha) if j - last_start < 4 else 9
                    starts[i] = not (words <= 1 and tok.is_lower and tok.is_alpha)
            elif _LIST_MARK.match(tok.text) and tok.text[0].isdigit() and p.text in _TERMINAL:
                starts[i] = True
        for i, tok in enumerate(doc):
            tok.is_sent_start = starts[i]
        return doc
