"""The level grammar (extractor/levels.py, built from patterns/levels.json): one owner for the target
rules, the parser and the sentence splitter."""

from __future__ import annotations

import json
import re
from importlib.resources import files

import pytest

from extractor.levels import grammar, parse_levels
from extractor.pipeline.sentences.patterns import LEVEL_LABEL

SINGLE = re.compile(rf"^{grammar().pieces['<level>']}$", re.IGNORECASE)


@pytest.mark.parametrize(
    "text", ["T12", "T-12", "T 12", "D12", "L5", "C7", "el one", "elle five", "tea twelve", "see seven", "t twelve"]
)
def test_a_level_in_any_notation(text):
    assert SINGLE.match(text)


@pytest.mark.parametrize("text", ["T13", "el six", "see eight", "X12", "T0"])
def test_not_a_level(text):
    # dictated letters only go as far as their region does (L1-L5, C1-C7); digits stop at 12
    assert not SINGLE.match(text)


@pytest.mark.parametrize(
    "text, levels",
    [
        ("T-12", ("T12",)),
        ("tea twelve", ("T12",)),
        ("D12", ("T12",)),
        ("twelfth thoracic vertebra", ("T12",)),
        ("T11-L1", ("T11", "T12", "L1")),
        ("L1-3", ("L1", "L2", "L3")),
        ("L2 to L4", ("L2", "L3", "L4")),
        ("T12 through L2", ("T12", "L1", "L2")),
        ("odontoid", ("C2",)),
        ("S1", ("sacrum",)),
        ("T14", ()),
    ],
)
def test_parse_levels(text, levels):
    assert parse_levels(text) == levels


def test_every_level_rule_is_written_with_the_grammar():
    rules = json.loads((files("extractor.patterns") / "targets.json").read_text(encoding="utf-8"))["target_rules"]
    rules += json.loads((files("extractor.patterns") / "context.json").read_text(encoding="utf-8"))["context_rules"]
    level_rules = [r for r in rules if r["category"] == "LEVEL"]
    # the letter-and-number forms appear only through <level>; no rule spells them out again
    assert all("[CTLD]" not in str(r.get("pattern")) and "(?:el|ell" not in str(r.get("pattern")) for r in rules)
    assert sum("<level>" in r["pattern"] for r in level_rules) == 2
    for rule in level_rules:
        re.compile(grammar().expand(rule["pattern"]))
        assert "<" + "level>" not in grammar().expand(rule["pattern"])


@pytest.mark.parametrize("token, label", [("T12", True), ("S1", True), ("sacrum", True), ("Sacroplasty", True),
                                           ("L-1", True), ("Note", False), ("T123", False)])
def test_sentence_splitter_reads_level_labels_with_the_grammar(token, label):
    assert bool(LEVEL_LABEL.match(token)) is label


@pytest.mark.parametrize("text, levels", [
    # raw speech recognition: a dictated letter with its stop, then a number word or a homophone
    ("L. one", ("L1",)), ("L. too", ("L2",)), ("L. for", ("L4",)), ("tea for", ("T4",)), ("sea six", ("C6",)),
])
def test_dictated_levels(text, levels):
    assert parse_levels(text) == levels


def test_a_bare_letter_before_a_homophone_is_not_a_level(extractor):
    record = extractor.extract("We discussed plan C for the fracture. Vertebroplasty of L2 with 2 mL PMMA.").to_dict()
    assert [p["level"] for p in record["procedures"]] == ["L2"] and record["not_treated"] == []


@pytest.mark.parametrize("text, levels", [
    # continental European reports: "Th" before the digits of a thoracic level
    ("Th12", ("T12",)), ("Th 7", ("T7",)), ("Th11-L1", ("T11", "T12", "L1")),
])
def test_th_notation(text, levels):
    assert parse_levels(text) == levels
