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


def test_a_discharge_summary_retelling_the_procedure_note_codes_nothing():
    # phenomenon: the admission's kyphoplasty, retold "per the procedure note" with level, balloons and cement:
    # the procedure note is the record that is coded, not the summary
    r = record("DISCHARGE SUMMARY. Procedures this admission: L1 balloon kyphoplasty (see separate procedure "
               "note). Hospital course: she underwent L1 balloon kyphoplasty two days ago; per the procedure "
               "note bilateral balloons were inflated and 4.5 mL PMMA was injected. A bone biopsy of L1 was sent.")
    assert r["document"]["type"] == "discharge_summary" and r["document"]["in_scope_procedure"] is False
    assert r["procedures"] == [] and r["biopsy_only_levels"] == [] and r["codes"] == []


def test_a_recovery_nursing_note_naming_the_procedure_codes_nothing():
    # phenomenon: a PACU note's "Procedure:" field and the cement volumes of the handoff
    r = record("PACU PHASE I NURSING NOTE\nProcedure: T8 and T9 kyphoplasty, bipedicular.\nCement T8 3.0 mL, "
               "T9 3.5 mL per proceduralist; no leak reported.\nAldrete 10 at discharge from phase I.")
    assert r["document"]["type"] == "nursing_note" and r["codes"] == []


def test_a_ct_report_after_kyphoplasty_codes_nothing():
    # phenomenon: an imaging report describing the new cement and the access tracts
    r = record("EXAM: CT THORACOLUMBAR SPINE WITHOUT CONTRAST\nCLINICAL INDICATION: status post T12 and L1 "
               "balloon kyphoplasty today.\nFINDINGS: new dense PMMA cement within the T12 and L1 vertebral "
               "bodies, bipedicular access tracts at both levels.")
    assert r["document"]["type"] == "radiology_report" and r["codes"] == []


def test_a_biopsy_titled_like_an_imaging_exam_is_a_procedure_report_when_it_narrates_the_needle():
    r = record("EXAMINATION: CT-GUIDED BONE BIOPSY, L1\nTECHNIQUE: the patient was placed prone; an 11 gauge "
               "needle was advanced into L1 and two cores were obtained.")
    assert r["document"]["type"] == "procedure_report"
    assert r["biopsy_only_levels"] == ["L1"] and {c["code"] for c in r["codes"]} == {"20225", "77012"}


def test_the_title_that_comes_first_names_the_document():
    # a PACU line or a consultant named further down does not retype an operative note
    assert document_type("BRIEF OP NOTE\nPACU: stable\nConsult: IR")[0] == "procedure_report"
    assert document_type("DISCHARGE SUMMARY\nConsultation: IR\nOperative report: see chart")[0] == "discharge_summary"


def test_a_fusion_with_cement_augmented_screws_and_graft_codes_nothing():
    # phenomenon: another family's procedure whose cement, graft and "augmented" read like a vertebroplasty
    r = record("OPERATION NOTE\nProcedure: posterior instrumented fusion T11 to L3 with cement-augmented "
               "fenestrated pedicle screws.\nTechnique: screws were placed at T11, T12, L2 and L3; 2 mL PMMA was "
               "injected through each fenestrated screw; local autograft was laid over the decorticated "
               "lamina.")
    assert r["procedures"] == [] and r["codes"] == [] and r["review"] is True
    assert r["document"]["in_scope_procedure"] is False


def test_an_acdf_with_a_peek_cage_and_allograft_codes_nothing():
    r = record("OPERATIVE REPORT\nProcedure: anterior cervical discectomy and fusion C5-C6.\nTechnique: a PEEK "
               "cage packed with allograft was inserted into the C5-C6 disc space and an anterior plate placed.")
    assert r["procedures"] == [] and r["codes"] == []


def test_a_balloon_cavity_filled_with_graft_inside_a_fusion_is_still_an_augmentation():
    # phenomenon: endplate reduction with inflatable bone tamps, the cavity filled with allograft, beside screws
    r = record("OPERATIVE REPORT\nProcedures: percutaneous pedicle screw fixation L1 to L3; balloon-assisted "
               "endplate reduction of L2.\nL2: trocars were placed through both L2 pedicles; two inflatable bone "
               "tamps were inflated beneath the endplate, and the cavities were filled with 6 cc allograft chips.")
    assert [(p["level"], p["technique"]) for p in r["procedures"]] == [("L2", "augmentation")]
    assert r["review"] is True  # the fusion is another family: a coder adds its codes


def test_a_disc_aspiration_for_infection_codes_nothing():
    # phenomenon: "vertebroplasty is contraindicated" in the clinical details of a CT-guided aspiration
    r = record("PROCEDURE : CT GUIDED ASPIRATION - L2-L3 DISC SPACE AND LEFT PSOAS COLLECTION\n"
               "Clinical details : referred as ?osteoporotic collapse of L2 for vertebroplasty; vertebroplasty is "
               "contraindicated in active infection.\nProcedure : an 18G spinal needle was inserted into the "
               "psoas collection under CT guidance and pus was aspirated, then redirected into the L2-L3 disc.")
    assert r["procedures"] == [] and r["codes"] == []


def test_a_dorsal_instrumentation_with_pmma_augmented_screws_codes_nothing():
    r = record("OPERATION REPORT\nProcedure: dorsal instrumentation Th11-L1 with PMMA-augmented fenestrated "
               "screws.\nTechnique: screws were placed in Th11 and L1 bilaterally and each was augmented with "
               "1,5 ml PMMA.")
    assert r["procedures"] == [] and r["codes"] == []


def test_a_cardiac_ct_whose_d1_reads_as_a_level_treats_nothing():
    # phenomenon: "D1" is the first diagonal artery; a note of no known kind, no in-scope procedure, no needle
    r = record("CORONARY CT ANGIOGRAPHY\nIMPRESSION: mild plaque in the proximal LAD and D1. Calcium score 120. "
               "Contrast was injected via an antecubital vein.")
    assert r["procedures"] == [] and r["codes"] == []


def test_curettes_of_a_discectomy_make_no_cavity():
    # phenomenon: an ACDF's curette and allograft at C6 beside another family's procedure
    r = record("OPERATIVE REPORT\nProcedure: anterior cervical discectomy and fusion C5-C6.\nTechnique: the disc "
               "was removed with curettes down to the endplates of C6, and allograft was packed into the space.")
    assert r["procedures"] == [] and r["codes"] == []


def test_an_appeal_quoting_the_operative_report_codes_nothing():
    # phenomenon: a revenue-cycle document retells a session in the operator's own words (needles, balloons,
    # cement volumes); it is about the claim, not a record of the session
    text = ("Patient Financial Services\nRE: First-Level Appeal of Claim Denial\nDenied lines: 22513 (T12).\n"
            "The operative report states: bilateral needles were placed into T12, the balloons were inflated "
            "and 4 mL of PMMA was injected under fluoroscopy.")
    r = record(text)
    assert r["document"]["type"] == "other" and r["document"]["in_scope_procedure"] is False
    assert r["document"]["evidence"] and r["procedures"] == [] and r["codes"] == [] and r["review"] is True


def test_a_prior_authorization_request_and_a_coder_query_are_administrative():
    assert document_type("Request for Prior Authorization - vertebral augmentation L1")[0] == "administrative"
    assert document_type("PHYSICIAN DOCUMENTATION QUERY\nDocument queried: operative report")[0] == "administrative"
    # a procedure note that only says authorization was obtained is still a procedure note
    assert document_type("OPERATIVE REPORT\nPrior authorization obtained.\nPROCEDURE: kyphoplasty")[0] == \
        "procedure_report"


def test_a_procedure_record_naming_no_in_scope_procedure_and_no_filler_treats_nothing():
    # phenomenon: a level-like name and a fill/deliver verb in another operation ("T8" is a stapler there,
    # current is "delivered" near T1 in a nerve ablation)
    for text in (("OPERATIVE REPORT\nPROCEDURE: low anterior resection. The T8 stapler was placed and the "
                  "defect filled with omentum."),
                 ("PROCEDURE NOTE\nC8 medial branch radiofrequency: the needle was placed at the base of the "
                  "transverse process of T1 and current was delivered at 80 degrees.")):
        r = record(text)
        assert r["procedures"] == [] and r["codes"] == [], text[:20]


def test_a_fusion_record_with_graft_codes_nothing():
    # phenomenon: allograft packed at named levels in a fusion is that procedure's graft, not a filler
    r = record("PROCEDURE PERFORMED: anterior cervical spine fusion C5-C6, application of machined allograft at "
               "C5-C6, anterior spine instrumentation.")
    assert r["procedures"] == [] and r["codes"] == []
    assert "instrumentation / fusion" in r["other_procedures"]
