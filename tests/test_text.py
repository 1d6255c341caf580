"""Text normalisation (extractor/text.py): same length always; spoken punctuation of raw dictation as marks."""

import re
from pathlib import Path

import pytest

from extractor.api import Extractor
from extractor.text import normalize

CORPORA = Path(__file__).resolve().parent.parent / "corpora"

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


# an export that lost its line breaks: headings inline after the comma or stop of the field before
FLATTENED = ("OPERATIVE REPORT,PREOPERATIVE DIAGNOSIS:,  T12 compression fracture.,PROCEDURE:,  Kyphoplasty T12."
             ",PAST HISTORY:,  L2 vertebroplasty in 2019.,DESCRIPTION OF PROCEDURE:,  Bilateral needles were "
             "placed into T12, the balloons were inflated and 4 mL of PMMA was injected.  IMPRESSION:  Done.")


def test_inline_headings_start_lines_at_the_same_offsets():
    out = normalize(FLATTENED)
    assert len(out) == len(FLATTENED)
    for heading in ("PREOPERATIVE DIAGNOSIS:", "PROCEDURE:", "PAST HISTORY:", "DESCRIPTION OF PROCEDURE:",
                    "IMPRESSION:"):
        assert f"\n{heading}" in out, heading
    # a heading of a numbered list loses its colon in some exports
    listed = ("PREOPERATIVE DIAGNOSES,1.  Fracture.,POSTOPERATIVE DIAGNOSES,1.  Same.,PROCEDURE PERFORMED,1.  "
              "Fusion.,ANESTHESIA:,  General.")
    assert normalize(listed).count("\n") == 3


def test_a_note_with_its_own_line_breaks_keeps_them():
    # phenomenon: a typed note that names a heading mid-line once is not a flattened export
    typed = "PROCEDURE: Vertebroplasty L1.\nTECHNIQUE: as usual, SEE NOTE: none.\nPMMA 3 mL."
    assert normalize(typed) == typed


def test_a_flattened_kyphoplasty_keeps_its_history_out_of_the_session():
    record = Extractor().extract(FLATTENED).to_dict()
    assert [p["level"] for p in record["procedures"]] == ["T12"]
    assert {"level": "L2", "reason": "historical"} in record["not_treated"]


def test_an_ocr_letter_o_inside_a_number_is_a_zero():
    from extractor.text import ocr_misreads

    assert ocr_misreads("Sedation start 1O:14, end 1O:51; PMMA 2.O mL at T1O") == \
        "Sedation start 10:14, end 10:51; PMMA 2.0 mL at T10"
    assert ocr_misreads("INDICATlON: BlLATERAL fractures; Tl2 and McGill") == "INDICATION: BILATERAL fractures; Tl2 and McGill"
    # words and water keep their letter
    assert ocr_misreads("Omnipaque, PO intake, 5 cm H2O") == "Omnipaque, PO intake, 5 cm H2O"


def test_bilingual_headings_read_in_english_at_the_same_offsets():
    raw = ("INDICACION / INDICATION: T12 fracture.\nPROCEDIMIENTO / PROCEDURE: Vertebroplasty of T12.\n"
           "DESCRIPCION / DESCRIPTION: 3 ml of PMMA injected into T12.")
    out = normalize(raw)
    assert len(out) == len(raw) and "\n" + " " * len("PROCEDIMIENTO / ") + "PROCEDURE:" in out
    record = Extractor().extract(raw).to_dict()
    assert [p["level"] for p in record["procedures"]] == ["T12"]
    # one such line is a title, not a bilingual record
    assert normalize("RELATORIO / REPORT: done") == "RELATORIO / REPORT: done"


def test_markdown_headings_read_as_plain_headings_at_the_same_offsets():
    from extractor.text import markdown_marks

    note = "**Procedure:** kyphoplasty of L1\n**Indication**\n- L1 fracture\n## Plan\nfollow-up"
    out = markdown_marks(note)
    assert len(out) == len(note)
    assert out.splitlines() == ["  Procedure:   kyphoplasty of L1", "  Indication: ", "- L1 fracture", "   Plan",
                                "follow-up"]
    assert markdown_marks("One **bold** word only.") == "One **bold** word only."  # once is emphasis, not markup


def test_an_ai_scribe_note_reads_its_sections(extractor):
    # without its headings the history's "L2 kyphoplasty with 4 mL PMMA" would read as a second treated level
    note = ("**Procedure Note**\n**Past Medical History**\n- L2 kyphoplasty with 4 mL PMMA.\n**Technique**\n"
            "- Bilateral balloon kyphoplasty of T12, balloons inflated, 4 mL PMMA.\n")
    record = extractor.extract(note).to_dict()
    assert [p["level"] for p in record["procedures"]] == ["T12"]
    assert {n["level"]: n["reason"] for n in record["not_treated"]} == {"L2": "historical"}


# The normaliser's regexes are written to start with a literal so that re skips ahead to it; each must find
# exactly what its plainly written form (a lookbehind first) finds.
_PLAIN_FORMS = {
    "_OCR_ZERO": r"(?<![A-BD-KM-RU-Za-z]\d)(?<=\d)O(?=[\d:.]|\b)|(?<=[\d:.])O(?=\d)|(?<=\d[:.])O\b",
    "_OCR_CAPITAL_I": r"(?<=[A-Z])(?<!\b[CTLSD])l(?=[A-Z])",
    "_SPOKEN_CUE": r"(?i)\b(?:full\s+stop|new\s+paragraph|new\s+line)\b",
    "_INLINE_HEADING": r"(?:,[ ]*|(?<=[.;])[ ]{1,4})(?=[A-Z][A-Z /&()'-]{2,60}(?::|,[ ]*1\.))",
}
_TRICKY = [
    "1O:14 2.O mL T1O H2O O2 at 10.O, 3O0 O 1.O. C1O,L2O XO1 B2O 9O",
    "INDICATlON: BlLATERAL TlO Tl2 Cl Ll Sl Dl Al LlMB xlX lAB",
    "biopsy full stop new paragraph procedure colon Full  Stop. NEW LINE unfull stop renew line new lines",
    "fracture.,PROCEDURE:,  Kyphoplasty. FINDINGS:  x;  PLAN, 1. rest.     DIAGNOSIS: a,B: c,PROCEDURE PERFORMED,1.  A",
]


@pytest.mark.parametrize("name", sorted(_PLAIN_FORMS))
def test_fast_regexes_find_what_their_plain_forms_find(name):
    import extractor.text as text_module

    fast, plain = getattr(text_module, name), re.compile(_PLAIN_FORMS[name])
    notes = [p.read_text(encoding="utf-8") for p in sorted(CORPORA.glob("*/*.txt"))]
    assert len(notes) > 100
    for sample in _TRICKY + [s.lower() for s in _TRICKY] + [" ".join(_TRICKY)] + notes:
        assert [m.span() for m in fast.finditer(sample)] == [m.span() for m in plain.finditer(sample)], sample
