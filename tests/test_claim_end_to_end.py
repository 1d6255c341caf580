"""The claim end to end (issue 12): sedation and the note's date of service reach the record, and
`spinecode evaluate` scores additional codes and queries. Notes are short invented sentences."""

from __future__ import annotations

from extractor import Extractor
from extractor.evaluate import Report, format_report, score_note

KYPHOPLASTY = (
    "PROCEDURE: Balloon kyphoplasty of L1.\n"
    "{date}"
    "DESCRIPTION: Moderate sedation was administered by me with an independent trained observer (RN) "
    "monitoring the patient. Sedation start 10:02, sedation stop 10:41. Under fluoroscopy a trocar was "
    "advanced into L1 via a bilateral transpedicular approach. The balloons were inflated, creating a cavity, "
    "and 4 mL of PMMA cement was injected into L1.\n"
)


def test_sedation_by_the_proceduralist_gives_additional_codes_not_codes():
    record = Extractor().extract(KYPHOPLASTY.format(date="")).to_dict()
    assert [(c["code"], c["units"]) for c in record["codes"]] == [("22514", 1)]
    assert [(c["code"], c["units"]) for c in record["additional_codes"]] == [("99152", 1), ("99153", 2)]
    assert record["sedation"]["minutes"] == 39 and record["sedation"]["observer"] is True
    assert all(e["label"].startswith("SEDATION") for e in record["additional_codes"][0]["evidence"])
    assert "moderate sedation" not in record["other_procedures"]


def test_code_set_auto_uses_the_date_the_note_states():
    note = KYPHOPLASTY.format(date="Date of procedure: 03/04/2013\n")
    record = Extractor(code_set="auto").extract(note).to_dict()
    assert record["date_of_service"]["value"] == "2013-03-04" and record["date_of_service"]["source"] == "note"
    assert record["code_set"] == "legacy"
    assert record["additional_codes"] == []  # sedation was part of the procedure codes before 2017
    given = Extractor(code_set="auto").extract(note, date_of_service="2020-01-02").to_dict()
    assert given["date_of_service"]["source"] == "caller" and given["code_set"] == "current"


def test_code_set_auto_without_any_date_says_it_assumed_the_current_set():
    note = KYPHOPLASTY.format(date="")
    auto = Extractor(code_set="auto").extract(note).to_dict()
    current = Extractor().extract(note).to_dict()
    assumed = [w for w in auto["warnings"] if w.startswith("code set auto: no date of service")]
    assert len(assumed) == 1 and auto["code_set"] == "current" and auto["date_of_service"]["source"] == "none"
    assert [w for w in auto["warnings"] if w not in assumed] == current["warnings"]
    assert (auto["confidence"], auto["review"], auto["codes"]) == (current["confidence"], current["review"],
                                                                   current["codes"])  # a notice, no more
    dated = Extractor(code_set="auto").extract(KYPHOPLASTY.format(date="Date of procedure: 03/04/2019\n"))
    given = Extractor(code_set="auto").extract(note, date_of_service="2019-03-04")
    nothing = Extractor(code_set="auto").extract("Spine clinic follow-up. No procedure today.")
    for result in (dated, given, nothing):
        assert not any(w.startswith("code set auto") for w in result.to_dict()["warnings"])


def test_a_prior_procedure_date_is_not_the_date_of_service():
    note = KYPHOPLASTY.format(date="Prior kyphoplasty date: 01/05/2011\nDate of service: 05/06/2019\n")
    record = Extractor(code_set="auto").extract(note).to_dict()
    assert record["date_of_service"]["value"] == "2019-05-06" and record["code_set"] == "current"


def test_evaluate_scores_additional_codes_and_queries():
    result = Extractor().extract(KYPHOPLASTY.format(date=""))
    report = Report()
    gold = {"procedures": [{"level": "L1"}], "codes": [{"code": "22514", "units": 1}],
            "additional_codes": [{"code": "99152", "units": 1}], "queries": [{"topic": "sedation_time"}]}
    score = score_note("n1", result, gold, report)
    assert not score.additional_ok and score.queries_ok is False
    assert any(m.startswith("additional codes:") for m in score.mismatches)
    text = format_report(report)
    assert "exact additional codes:    0/1" in text and "query topics agree:        0/1" in text


def test_evaluate_show_lists_not_treated_mismatches():
    result = Extractor().extract(KYPHOPLASTY.format(date=""))
    got = sorted((n["level"], n["reason"]) for n in result.to_dict()["not_treated"])
    gold = {"procedures": [{"level": "L1"}], "not_treated": [{"level": "T4", "reason": "planned"}]}
    report = Report()
    score = score_note("n1", result, gold, report)
    assert report.field_right["not_treated"] == 0 and report.field_total["not_treated"] == 1
    want = f"not_treated: gold=['T4 planned'] got={[f'{lv} {why}' for lv, why in got]}"
    assert want in score.mismatches and f"    - {want}" in format_report(report, show=True)
    right = Report()
    gold["not_treated"] = [{"level": lv, "reason": why} for lv, why in got]
    assert not any(m.startswith("not_treated") for m in score_note("n1", result, gold, right).mismatches)


def test_text_output_lists_additional_codes_and_info():
    from extractor.cli import summary

    record = Extractor().extract(KYPHOPLASTY.format(date="")).to_dict()
    text = summary(record)
    assert "additional codes: 99152x1, 99153x2" in text.splitlines()
    record["info"] = ["S1: anesthesia provider's claim"]
    assert "info: S1: anesthesia provider's claim" in summary(record)
