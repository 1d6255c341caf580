"""extractor.gold: gold JSON -> NoteFacts, including the default guidance rule."""

from __future__ import annotations

import json

import pytest

from extractor.coding import assign_codes
from extractor.coding.result import Code
from extractor.gold import codes_as_pairs, gold_to_facts, load_gold


def proc(level, technique="vertebroplasty", **extra):
    return {"level": level, "technique": technique, "approach": "bilateral", "side": None,
            "cavity_device": None, "cement": "pmma", "biopsy": False, **extra}


def test_load_gold_roundtrip(tmp_path):
    path = tmp_path / "x.gold.json"
    gold = {"id": "x", "procedures": [proc("L1")], "biopsy_only_levels": [], "imaging": ["fluoroscopy"],
            "codes": [{"code": "22511", "units": 1}]}
    path.write_text(json.dumps(gold), encoding="utf-8")
    assert load_gold(path) == gold


def test_load_gold_rejects_non_object(tmp_path):
    path = tmp_path / "x.gold.json"
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(TypeError):
        load_gold(path)


def test_fields_are_carried():
    facts = gold_to_facts({
        "procedures": [proc("T8", "augmentation", approach="unilateral", side="right", cavity_device="balloon",
                            biopsy=True, cement_volume_ml=3.5)],
        "biopsy_only_levels": ["T6"],
        "imaging": ["fluoroscopy"],
        "not_treated": [{"level": "T9", "reason": "aborted"}],
        "other_procedures": ["moderate sedation"],
    })
    p = facts.procedures[0]
    assert (p.level, p.technique, p.approach, p.side, p.cavity_device, p.cement, p.cement_volume_ml, p.biopsy) == (
        "T8", "augmentation", "unilateral", "right", "balloon", "pmma", 3.5, True)
    assert facts.biopsy_only_levels == ["T6"]
    assert [(n.level, n.reason) for n in facts.not_treated] == [("T9", "aborted")]
    assert facts.other_procedures == ["moderate sedation"] and not facts.needle_only


@pytest.mark.parametrize(
    ("imaging", "biopsy_only", "treated_guidance", "biopsy_guidance"),
    [
        (["fluoroscopy"], [], "fluoroscopy", None),
        (["ct"], ["T6"], "ct", "ct"),
        (["ct", "fluoroscopy"], [], "ct", None),  # CT placement with fluoroscopic monitoring
        (["fluoroscopy", "ct"], ["T6"], "fluoroscopy", "ct"),  # CT guided the biopsy-only level
        ([], ["T6"], None, None),
    ],
)
def test_default_guidance(imaging, biopsy_only, treated_guidance, biopsy_guidance):
    facts = gold_to_facts({"procedures": [proc("L2")], "biopsy_only_levels": biopsy_only, "imaging": imaging})
    assert facts.procedures[0].guidance == treated_guidance
    assert [b.guidance for b in facts.biopsy_only] == ([biopsy_guidance] if biopsy_only else [])


def test_explicit_guidance_wins():
    facts = gold_to_facts({
        "procedures": [proc("L2", guidance="ct"), proc("L4")],
        "biopsy_only_levels": [{"level": "T6", "guidance": "fluoroscopy"}],
        "imaging": ["ct", "fluoroscopy"],
    })
    assert [p.guidance for p in facts.procedures] == ["ct", "fluoroscopy"]
    assert facts.biopsy_only[0].guidance == "fluoroscopy"
    legacy = assign_codes(facts, "legacy")
    assert codes_as_pairs(legacy.codes) == [("20225", 1), ("22521", 1), ("22522", 1), ("72291", 1), ("72292", 1)]


def test_empty_gold():
    facts = gold_to_facts({"id": "empty", "procedures": [], "biopsy_only_levels": [], "imaging": []})
    assert facts.procedures == [] and facts.biopsy_only == []
    assert assign_codes(facts).codes == []


def test_codes_as_pairs_accepts_dicts_and_codes():
    dicts = [{"code": "22515", "units": 2}, {"code": "22513", "units": 1}]
    codes = [Code("22513", 1, "CPT", [], ["T7"], "d", "r"), Code("22515", 2, "CPT", [], ["T8", "T10"], "d", "r")]
    assert codes_as_pairs(dicts) == codes_as_pairs(codes) == [("22513", 1), ("22515", 2)]
    assert codes_as_pairs([]) == []
