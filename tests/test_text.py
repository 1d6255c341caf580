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


def test_export_line_breaks_become_breaks_at_the_same_offsets():
    hl7 = "MSH|^~\\&|EPIC|X\nOBX|1|TX|NOTE||PROCEDURE: vertebroplasty L1~TECHNIQUE: PMMA 3 mL\\.br\\IMPRESSION: done"
    csv = '"1","PROCEDURE: vertebroplasty L1\\nTECHNIQUE: PMMA 3 mL\\nIMPRESSION: done\\n"'
    rtf = "{\\rtf1\\ansi \\b PROCEDURE:\\b0  vertebroplasty L1\\par\n\\b TECHNIQUE:\\b0  PMMA 3 mL\\par\n}"
    for raw in (hl7, csv, rtf):
        out = normalize(raw)
        assert len(out) == len(raw)
        assert "\nTECHNIQUE:" in out.replace(" \n", "\n").replace("\n ", "\n") or "\n   TECHNIQUE:" in out


def test_ocr_and_dictation_are_named_as_noise():
    from extractor.text import noise

    scanned = "Tl2: 2.5 rnL PMMA injected.\nPage 2 of 3 - HOSPITAL\nL l: cement injected."
    assert noise(scanned) == ["ocr"]
    assert noise(DICTATED) == ["dictation"]
    assert noise("T12: 2.5 mL PMMA injected.") == []


def test_a_scanned_note_is_read_and_goes_to_review():
    record = Extractor().extract("PROCEDURE: Vertebroplasty.\nTl2: 2.5 rnL PMMA injected through the needle.\n"
                                 "TlO: 2.0 mL PMMA injected through the needle.").to_dict()
    assert [p["level"] for p in record["procedures"]] == ["T10", "T12"]
    assert record["review"] is True and any("OCR" in w for w in record["warnings"])
