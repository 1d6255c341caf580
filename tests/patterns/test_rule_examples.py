"""patterns/{targets,context,sections}.json: every rule finds its `metadata.examples`, alone and in the pipeline.

Alone: the rule's pattern (level-grammar pieces filled in, compiled with the flags the matcher uses)
finds every "match" example and no "no_match" one; a rule without a pattern is a phrase (its literal).
In the pipeline: each "match" example gives a span that this very rule made (an entity, a ConText
modifier or a section), so an example another rule wins over, by medspaCy's longest-match pruning
or by rule order, fails here; a rule whose examples an earlier rule always takes names it in
`metadata.shadowed_by`.
"""

from __future__ import annotations

import json
import re
from importlib.resources import files

import pytest

from extractor.levels import grammar
from extractor.text import normalize

FILES = {"targets": "target_rules", "context": "context_rules", "sections": "section_rules"}
FLAGS = re.IGNORECASE | re.ASCII  # as FastRegexMatcher compiles the rules


def _rules(stem: str) -> list[dict]:
    return json.loads((files("extractor.patterns") / f"{stem}.json").read_text(encoding="utf-8"))[FILES[stem]]


RULES = [(stem, rule) for stem in FILES for rule in _rules(stem)]
IDS = [f"{stem}:{rule['literal']}" for stem, rule in RULES]


def _compiled(rule: dict) -> re.Pattern:
    pattern = rule.get("pattern")
    if pattern is None:  # a phrase rule: medspaCy matches its literal token by token
        return re.compile(r"\b" + r"\s+".join(map(re.escape, rule["literal"].split())) + r"\b", FLAGS)
    return re.compile(grammar().expand(pattern), FLAGS)


@pytest.fixture(scope="module")
def nlp():
    from extractor.pipeline import get_pipeline

    return get_pipeline()


def _rules_that_fired(stem: str, doc) -> list[tuple[str, str]]:
    """(literal, category) of the rule behind every span the pipeline made for this file's rules."""
    if stem == "targets":
        return [(ent._.target_rule.literal, ent.label_) for ent in doc.ents]
    if stem == "context":
        return [(m.rule.literal, m.category) for m in doc._.context_graph.modifiers]
    return [(s.rule.literal, s.category) for s in doc._.sections if s.rule is not None]


@pytest.mark.parametrize("stem, rule", RULES, ids=IDS)
def test_pattern_finds_its_examples(stem, rule):
    examples = rule.get("metadata", {}).get("examples", {})
    assert examples.get("match"), f"{rule['literal']}: needs at least one match example"
    assert set(examples) <= {"match", "no_match"} and set(rule["metadata"]) <= {"kind", "examples", "shadowed_by"}
    pattern = _compiled(rule)
    for text in examples["match"]:
        assert pattern.search(text), f"{rule['literal']!r} should find {text!r}"
    for text in examples.get("no_match", []):
        assert not pattern.search(text), f"{rule['literal']!r} should not find {text!r}"


@pytest.mark.parametrize("stem, rule", RULES, ids=IDS)
def test_pipeline_finds_its_examples_with_this_rule(stem, rule, nlp):
    # `metadata.shadowed_by`: an earlier rule matches the same span on these examples and wins the tie
    # (medspaCy keeps the first of two equally long matches), so that rule is the one that must fire
    winner = rule["metadata"].get("shadowed_by", rule["literal"])
    for text in rule["metadata"]["examples"]["match"]:
        fired = [literal for literal, category in _rules_that_fired(stem, nlp(normalize(text)))]
        assert winner in fired, f"{text!r}: rules that fired {fired}"
        assert winner == rule["literal"] or rule["literal"] not in fired, f"{text!r}: no longer shadowed"


def test_shadowing_rules_exist_and_come_first():
    for stem in FILES:
        literals = [rule["literal"] for rule in _rules(stem)]
        for k, rule in enumerate(_rules(stem)):
            if "shadowed_by" in rule["metadata"]:
                assert rule["metadata"]["shadowed_by"] in literals[:k], rule["literal"]


@pytest.mark.parametrize("stem", FILES)
def test_literals_are_unique_within_a_file(stem):
    literals = [rule["literal"] for rule in _rules(stem)]
    assert len(set(literals)) == len(literals), sorted({lit for lit in literals if literals.count(lit) > 1})


def test_every_target_rule_keeps_its_competition_group():
    assert all(rule["metadata"].get("kind") for rule in _rules("targets"))
