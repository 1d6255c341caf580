"""Text normalisation (extractor/text.py): same length always; spoken punctuation of raw dictation as marks."""

from extractor.api import Extractor
from extractor.text import normalize

DICTATED = ("procedure colon percutaneous vertebroplasty sea six via right anterolateral approach full stop new "
            "paragraph technique colon an eleven gauge needle was passed onto the sea six body full stop then PMMA "
            "injected through the same needle comma one point eight mils full stop new paragraph plan colon "
            "soft collar full stop")


def test_spoken_punctuation_becomes_marks_at_the_same_offsets():
    out = normalize(DICTATED)
    assert len(out) == len(DICTATED)
    assert "approach." in out and "technique:" in out and "needle," in out
    assert "\n\ntechnique:" in out  # a spoken paragraph starts a line, so the heading opens it
    assert "full stop" not in out and "colon" not in out


def test_a_typed_note_keeps_its_words():
    # phenomenon: "colon" and "comma" in a typed note are words, not dictated marks
    typed = "FINDINGS: sigmoid colon is unremarkable. The comma sign was absent. Period of observation: 2 h."
    assert normalize(typed) == typed


def test_a_dictated_vertebroplasty_is_read():
    record = Extractor().extract(DICTATED).to_dict()
    assert [p["level"] for p in record["procedures"]] == ["C6"]
    for p in record["procedures"]:
        for e in p.get("evidence", []):
            assert DICTATED[e["start"]:e["end"]] == e["text"]
