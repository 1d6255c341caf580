"""SpinecodeSectionizer must give the stock medspaCy Sectionizer's sections, per doc and per token."""

from pathlib import Path

from medspacy.section_detection.sectionizer import Sectionizer

from extractor.pipeline import get_pipeline
from extractor.text import normalize

ROOT = Path(__file__).resolve().parents[2]


def section_view(doc):
    sections = [(s.category, s.title_span, s.body_span, s.section_span) for s in doc._.sections]
    tokens = [(t._.section_category, t._.section_span.start if t._.section is not None else None) for t in doc]
    return sections, tokens


def test_same_sections_as_the_stock_sectionizer():
    """Our __call__ against medspaCy's Sectionizer.__call__ on the same component (same rules and the
    same injected regex matcher): the per-token shortcut must not change any section."""
    nlp = get_pipeline()
    ours = nlp.get_pipe("spinecode_sectionizer")
    paths = sorted((ROOT / "corpora").glob("*/*.txt")) + sorted((ROOT / "examples").glob("*.txt"))
    texts = [normalize(p.read_text(encoding="utf-8")) for p in paths] + ["no headings at all", "x"]
    with_sections = 0
    for text in texts:
        expected = section_view(Sectionizer.__call__(ours, nlp.make_doc(text)))
        assert section_view(ours(nlp.make_doc(text))) == expected
        with_sections += len(expected[0]) > 1
    assert with_sections > 100
