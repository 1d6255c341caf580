"""One field list: the JSON Schema of the output contract and the dataclasses that write records agree both
ways (every record field of a dataclass is a schema property, every schema property is produced), records
validate, and gold / evaluate derive their field lists from the dataclasses."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from extractor.api import NoteResult, error_result
from extractor.coding import Code, PcsCode, assign_codes
from extractor.coding.result import Query
from extractor.contract import output_schema, validate
from extractor.evaluate import FIELDS, NOT_SCORED_ALWAYS
from extractor.facts import (
    Evidence,
    LevelFacts,
    NoteFacts,
    NotTreated,
    SedationFacts,
    ServiceDate,
    TumorAblation,
    in_record,
)
from extractor.gold import gold_to_facts

ROOT = Path(__file__).resolve().parents[1]
GOOD, ERROR = output_schema()["oneOf"]
PROCEDURE = GOOD["properties"]["procedures"]["items"]
# NoteFacts fields that are not record fields, and why (a new field is either in the schema or listed here)
NOTE_FACTS_OFF_RECORD = {
    "biopsy_only": "written as biopsy_only_levels, the levels alone",
    "needle_only": "read by the coding rules and the review",
    "session_cancelled": "read by the coding rules (rule 22); the record says it in warnings",
    "warnings": "the record's warnings are NoteResult's scored ones, which include these",
    "review_reasons": "read by the review",
    "concerns": "coded concerns; the record carries their messages as warnings",
    "ablation": "written as its additional code (20982/20983) with the ablation's evidence",
    "stated_date": "the record's date_of_service says which date was used and where it came from",
}


def record_names(cls) -> list[str]:
    return [f.name for f in fields(cls) if in_record(f)]


def off_record_names(cls) -> list[str]:
    return [f.name for f in fields(cls) if not in_record(f)]


def full_facts() -> NoteFacts:
    """Facts with every field of the record set (so every property has a value to check)."""
    evidence = [Evidence(10, 13, "T12", "LEVEL", "procedure")]
    return NoteFacts(
        procedures=[LevelFacts("T12", "augmentation", "unilateral", "left", "balloon", "pmma", 3.5, True, "ct",
                               evidence),
                    LevelFacts("L1", "vertebroplasty", guidance="fluoroscopy")],
        biopsy_only=[],
        imaging=["ct", "fluoroscopy"],
        not_treated=[NotTreated("L4", "historical", evidence)],
        other_procedures=["instrumentation / fusion"],
        sedation=SedationFacts("moderate", "proceduralist", True, 30, "stated", None, True, False, [],
                               [Evidence(40, 58, "moderate sedation", "SEDATION", "procedure")]),
        ablation=TumorAblation("radiofrequency", [Evidence(60, 63, "RFA", "ABLATION", "procedure")]),
        needle_only=False,
        warnings=["a facts warning"],
        review_reasons=["a facts warning"],
    )


def full_record(code_set: str = "current", date: str | None = "2016-03-01") -> dict:
    facts = full_facts()
    coding = assign_codes(facts, code_set, date)
    return NoteResult("n1", facts, coding, 0.5, True, ["a facts warning"]).to_dict()


def test_procedure_properties_are_the_level_facts_fields_plus_region_in_order():
    assert list(PROCEDURE["properties"]) == ["level", "region", *record_names(LevelFacts)[1:]]
    assert off_record_names(LevelFacts) == []
    assert list(full_record()["procedures"][0]) == list(PROCEDURE["properties"])


def test_nested_properties_are_the_dataclass_fields():
    assert list(PROCEDURE["properties"]["evidence"]["items"]["properties"]) == record_names(Evidence)
    assert list(GOOD["properties"]["not_treated"]["items"]["properties"]) == record_names(NotTreated)
    # procedure codes carry their evidence per level; additional codes carry their own
    assert list(GOOD["properties"]["codes"]["items"]["properties"]) == [f.name for f in fields(Code)][:-1]
    assert list(GOOD["properties"]["additional_codes"]["items"]["properties"]) == [f.name for f in fields(Code)]
    assert list(GOOD["properties"]["queries"]["items"]["properties"]) == [f.name for f in fields(Query)]
    assert list(GOOD["properties"]["sedation"]["properties"]) == record_names(SedationFacts)
    assert list(GOOD["properties"]["date_of_service"]["properties"]) == record_names(ServiceDate)
    assert set(GOOD["properties"]["pcs_codes"]["items"]["properties"]) == {f.name for f in fields(PcsCode)}


def test_note_facts_fields_are_schema_properties_or_knowingly_left_out():
    properties = set(GOOD["properties"])
    assert [name for name in record_names(NoteFacts) if name not in properties] == []
    assert dict.fromkeys(off_record_names(NoteFacts)) == dict.fromkeys(NOTE_FACTS_OFF_RECORD)
    assert "biopsy_only_levels" in properties


@pytest.mark.parametrize("code_set", ["current", "legacy"])
def test_every_schema_property_is_produced_and_nothing_else(code_set):
    record = full_record(code_set)
    assert list(record) == list(GOOD["properties"])
    assert all(record["codes"]) and record["pcs_codes"] and record["date_of_service"] == {
        "value": "2016-03-01", "source": "caller", "evidence": None}
    for code in record["codes"]:
        assert set(code) == set(GOOD["properties"]["codes"]["items"]["properties"])
    assert record["additional_codes"] and record["info"] and record["sedation"]["evidence"]
    for code in record["additional_codes"]:
        assert set(code) == set(GOOD["properties"]["additional_codes"]["items"]["properties"]) and code["evidence"]
    for pcs in record["pcs_codes"]:
        assert set(pcs) == set(GOOD["properties"]["pcs_codes"]["items"]["properties"])
    for procedure in record["procedures"]:
        for evidence in procedure["evidence"]:
            assert set(evidence) == set(PROCEDURE["properties"]["evidence"]["items"]["properties"])
    assert set(record["not_treated"][0]) == set(GOOD["properties"]["not_treated"]["items"]["properties"])
    error = error_result("x", "EmptyNote", "note is empty").to_dict()
    assert list(error) == list(ERROR["properties"])


def test_hand_built_records_validate():
    validate(full_record("current"))
    validate(full_record("legacy", None))
    validate(error_result(None, "EmptyNote", "note is empty").to_dict())
    validate(NoteResult("empty", NoteFacts(), assign_codes(NoteFacts(), "current"), 0.9, False).to_dict())


def test_a_record_that_breaks_the_contract_does_not_validate():
    import jsonschema

    record = full_record()
    record["pcs_codes"][0]["root_operation"] = "Replacement"
    with pytest.raises(jsonschema.ValidationError):
        validate(record)


def test_extracted_example_records_validate(extractor):
    notes = sorted((ROOT / "examples").glob("*.txt"))
    assert notes
    for path in notes:
        validate(extractor.extract(path.read_text(encoding="utf-8"), note_id=path.stem).to_dict())


def test_gold_reads_every_record_field_of_a_procedure():
    record = full_record()
    wanted = {k: v for k, v in record["procedures"][0].items() if k not in ("region", "evidence")}
    facts = gold_to_facts({"procedures": [wanted], "imaging": ["ct"]})
    assert {k: v for k, v in facts.procedures[0].to_dict().items() if k not in ("region", "evidence")} == wanted


def test_evaluate_scores_every_procedure_field_it_does_not_exclude_by_name():
    assert set(FIELDS) | set(NOT_SCORED_ALWAYS) == set(record_names(LevelFacts))
    assert not set(FIELDS) & set(NOT_SCORED_ALWAYS)
