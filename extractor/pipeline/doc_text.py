"""The note text of a Doc, without rebuilding it.

`Doc.text` joins every token's text (a Token object per token, ≈ 0.2 ms per note) and the three regex
matchers need it on every note. spaCy's tokenizer is non-destructive (`doc.text == text`), so a thin
wrapper around it keeps the string it was given in `doc.user_data`, and `doc_text(doc)` returns it.
"""

from spacy.attrs import IDX, LENGTH
from spacy.tokens import Doc

TEXT_KEY = ("spinecode", "text")


def token_bounds(doc: Doc) -> tuple[list[int], list[int]]:
    """(start, end) character offsets of every token, from one array call (no Token objects)."""
    offsets = doc.to_array([IDX, LENGTH])
    # column by column: tolist() of the 2-D array is 10x slower
    return offsets[:, 0].tolist(), (offsets[:, 0] + offsets[:, 1]).tolist()


def doc_text(doc: Doc) -> str:
    """doc.text, from the tokenizer's copy when it is there and still fits the doc."""
    text = doc.user_data.get(TEXT_KEY)
    if text is not None and len(doc) and text.startswith(doc[-1].text_with_ws, doc[-1].idx) \
            and len(text) == doc[-1].idx + len(doc[-1].text_with_ws):
        return text
    return doc.text


class TextKeepingTokenizer:
    """Wraps a spaCy tokenizer; every Doc it makes remembers its text under TEXT_KEY."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    def __call__(self, text: str) -> Doc:
        doc = self.tokenizer(text)
        doc.user_data[TEXT_KEY] = text
        return doc

    def pipe(self, texts, batch_size: int = 1000):
        for text in texts:
            yield self(text)

    def __getattr__(self, name: str):
        if name == "tokenizer":  # not set yet (unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.tokenizer, name)

    def to_bytes(self, **kwargs):
        return self.tokenizer.to_bytes(**kwargs)

    def from_bytes(self, data, **kwargs):
        self.tokenizer.from_bytes(data, **kwargs)
        return self

    def to_disk(self, path, **kwargs):
        return self.tokenizer.to_disk(path, **kwargs)

    def from_disk(self, path, **kwargs):
        self.tokenizer.from_disk(path, **kwargs)
        return self
