"""The document stage: what a note is, and that only a record of an in-scope procedure treats levels."""

from extractor.api import Extractor
from extractor.decide.document import document_type

EXTRACTOR = Extractor()


def record(text):
    return EXTRACTOR.extract(text).to_dict()


def test_a_discharge_summary_that_only_mentions_cement_treats_no_level():
    # phenomenon: a non-procedure document whose cues (level, cement) read like a treatment
    r = record("DISCHARGE SUMMARY: admitted with back pain. HOSPITAL COURSE: CT showed an old T12 fracture "
               "with cement from an outside hospital. She was treated with bracing and discharged home.")
    assert r["document"]["type"] == "discharge_summary"
    assert r["procedures"] == [] and r["codes"] == []


def test_a_consult_whose_words_read_as_a_treatment_codes_nothing_and_goes_to_review():
    # phenomenon: filler, needles and a level in a document that is not a record of this session
    r = record("CONSULTATION. Reason: T12 fracture. 3 mL of PMMA cement was injected into T12 via bilateral "
               "needles.")
    assert r["document"] == {"type": "consult", "in_scope_procedure": False, "evidence": r["document"]["evidence"]}
    assert r["procedures"] == [] and r["codes"] == [] and r["review"] is True
    assert any("records no vertebroplasty" in w for w in r["warnings"])


def test_a_vertebroplasty_record_is_in_scope_with_its_evidence():
    text = ("PROCEDURE: T12 vertebroplasty. TECHNIQUE: under fluoroscopy a needle was placed into T12 and "
            "3 mL of PMMA cement was injected.")
    r = record(text)
    assert r["document"]["type"] == "procedure_report" and r["document"]["in_scope_procedure"] is True
    assert [p["level"] for p in r["procedures"]] == ["T12"]
    for e in r["document"]["evidence"]:
        assert text[e["start"]:e["end"]] == e["text"]


def test_an_ir_report_titled_like_an_imaging_exam_is_a_procedure_report():
    r = record("EXAM: CT guided sacroplasty. TECHNIQUE: needles were placed in both sacral ala and PMMA was "
               "injected on each side.")
    assert r["document"]["type"] == "procedure_report" and r["document"]["in_scope_procedure"] is True


def test_types_come_from_the_opening():
    assert document_type("SURGICAL PATHOLOGY REPORT. GROSS DESCRIPTION: bone")[0] == "pathology_report"
    assert document_type("EXAM: MRI lumbar spine without contrast")[0] == "radiology_report"
    assert document_type("SUBJECTIVE: doing well")[0] == "clinic_note"
    assert document_type("Just some words")[0] == "other"
