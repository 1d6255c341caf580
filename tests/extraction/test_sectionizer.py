"""SpinecodeSectionizer must give the stock medspaCy Sectionizer's sections, per doc and per token."""

from pathlib import Path

import spacy

from extractor.pipeline import get_pipeline, pattern_path
from extractor.text import normalize

ROOT = Path(__file__).resolve().parents[2]


def section_view(doc):
    sections = [(s.category, s.title_span, s.body_span, s.section_span) for s in doc._.sections]
    tokens = [(t._.section_category, t._.section_span.start if t._.section is not None else None) for t in doc]
    return sections, tokens


def test_same_sections_as_the_stock_sectionizer():
    spinecode = get_pipeline()
    stock = spacy.blank("en")
    stock.tokenizer = spinecode.tokenizer
    stock.add_pipe("medspacy_sectionizer", config={"rules": str(pattern_path("sections")), "phrase_matcher_attr": "LOWER"})
    ours = spinecode.select_pipes(enable=["spinecode_sectionizer"])
    try:
        paths = sorted((ROOT / "corpora").glob("*/*.txt")) + sorted((ROOT / "examples").glob("*.txt"))
        texts = [normalize(p.read_text(encoding="utf-8")) for p in paths] + ["no headings at all", "x"]
        with_sections = 0
        for text in texts:
            expected = section_view(stock(text))
            assert section_view(spinecode(text)) == expected
            with_sections += len(expected[0]) > 1
        assert with_sections > 100
    finally:
        ours.restore()
