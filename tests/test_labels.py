"""The label enums list exactly the categories of the rule files, both ways."""

from __future__ import annotations

import json
from importlib.resources import files

import pytest

from extractor.labels import Cue, Modifier, Section, cue_kind, cue_kinds


def _categories(name: str, key: str) -> set[str]:
    rules = json.loads((files("extractor.patterns") / name).read_text(encoding="utf-8"))[key]
    return {rule["category"] for rule in rules}


@pytest.mark.parametrize(
    "enum, name, key, extra",
    [
        (Cue, "targets.json", "target_rules", set()),
        (Modifier, "context.json", "context_rules", set()),
        (Section, "sections.json", "section_rules", set()),
    ],
)
def test_enum_equals_rule_categories(enum, name, key, extra):
    in_file = _categories(name, key)
    in_enum = {member.value for member in enum}
    assert in_file - in_enum == set(), f"{name} has categories the enum lacks"
    # every enum member is written by some rule (LEVEL rules may also come from levels.json)
    assert in_enum - in_file <= {Cue.LEVEL.value} | extra, f"{enum.__name__} has members no rule of {name} writes"


def test_members_compare_and_hash_as_strings():
    assert Cue.BIOPSY == "BIOPSY" and "BIOPSY" in {Cue.BIOPSY}
    assert Cue.BIOPSY in {"BIOPSY"} and str(Section.PLAN) == "plan"
    assert all(hash(m) == hash(m.value) and type(str(m)) is str and str(m) == m.value for m in [*Cue, *Section])


def test_each_category_has_one_kind():
    rules = json.loads((files("extractor.patterns") / "targets.json").read_text(encoding="utf-8"))["target_rules"]
    seen: dict[str, set] = {}
    for rule in rules:
        assert rule.get("metadata", {}).get("kind"), f"rule {rule['literal']!r} has no metadata.kind"
        seen.setdefault(rule["category"], set()).add(rule["metadata"]["kind"])
    assert all(len(kinds) == 1 for kinds in seen.values()), {c: k for c, k in seen.items() if len(k) > 1}
    assert cue_kind(Cue.APPROACH_BI) == cue_kind(Cue.APPROACH_UNI) == "approach"
    assert set(cue_kinds()) >= {member.value for member in Cue}
