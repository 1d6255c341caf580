"""Moderate sedation, coding-rules 0.1: every row S0-S9 and the 99153 unit formula, on facts written
by hand (no spaCy)."""

from __future__ import annotations

import datetime as dt

import pytest

from extractor.coding.sedation import add_on_units, sedation_codes, sedation_table
from extractor.facts import SedationFacts

DAY = dt.date(2024, 3, 1)


def outcome(code_set="current", day=DAY, has_procedure=True, regions=("lumbar",), **sedation):
    return sedation_codes(SedationFacts(**sedation), code_set, day, has_procedure, list(regions))


def codes(result) -> list[tuple[str, int]]:
    return [(c.code, c.units) for c in result.codes]


MODERATE = {"level": "moderate", "given_by": "proceduralist", "observer": True, "minutes": 39, "minutes_source": "clock"}


@pytest.mark.parametrize("minutes, add_on", [(10, 0), (22, 0), (23, 1), (37, 1), (38, 2), (39, 2), (40, 2), (53, 3)])
def test_add_on_units(minutes, add_on):
    assert add_on_units(minutes) == add_on
    expected = [("99152", 1)] + ([("99153", add_on)] if add_on else [])
    assert codes(outcome(**{**MODERATE, "minutes": minutes})) == expected


def test_s8_moderate_by_the_proceduralist_with_observer_and_time():
    result = outcome(**MODERATE)
    assert result.rule == "S8" and codes(result) == [("99152", 1), ("99153", 2)]
    assert not result.review and not result.queries
    assert "39 minutes" in result.codes[0].rationale and "observer" in result.codes[0].rationale


def test_s8_under_five_years_is_99151():
    assert codes(outcome(**{**MODERATE, "age_years": 3})) == [("99151", 1), ("99153", 2)]
    assert codes(outcome(**{**MODERATE, "age_years": 5}))[0] == ("99152", 1)


@pytest.mark.parametrize("code_set, day", [("legacy", DAY), ("current", dt.date(2016, 12, 31))])
def test_s0_before_2017_or_legacy_nothing(code_set, day):
    result = outcome(code_set=code_set, day=day, **MODERATE)
    assert result.rule == "S0" and not result.codes and result.info and not result.review


@pytest.mark.parametrize("level", ["general", "mac", "deep", "moderate"])
def test_s1_by_an_anesthesia_provider_is_their_claim(level):
    result = outcome(level=level, given_by="anesthesia", regions=("thoracic", "lumbar"))
    assert result.rule == "S1" and not result.codes and not result.review
    assert "01941/01942" in result.info[0]


@pytest.mark.parametrize("level", ["none", "local", "minimal"])
def test_s2_local_or_minimal_nothing(level):
    result = outcome(level=level, given_by="proceduralist")
    assert result.rule == "S2" and not (result.codes or result.info or result.warnings or result.queries)


def test_s3_deep_by_the_proceduralist_warns():
    result = outcome(level="deep", given_by="proceduralist", observer=True, minutes=40)
    assert result.rule == "S3" and not result.codes and result.warnings and not result.review


def test_s4_moderate_by_another_provider():
    result = outcome(level="moderate", given_by="other_provider", observer=True, minutes=40)
    assert result.rule == "S4" and not result.codes and "99155" in result.info[0]


def test_s5_no_observer_is_a_query():
    result = outcome(**{**MODERATE, "observer": False})
    assert result.rule == "S5" and not result.codes and [q.topic for q in result.queries] == ["sedation_observer"]
    assert not result.review


def test_s6_no_time_is_a_query():
    result = outcome(**{**MODERATE, "minutes": None, "minutes_source": None})
    assert result.rule == "S6" and [q.topic for q in result.queries] == ["sedation_time"] and not result.review


def test_s7_under_ten_minutes():
    result = outcome(**{**MODERATE, "minutes": 9})
    assert result.rule == "S7" and not result.codes and result.info


def test_s9_contradiction_goes_to_review():
    result = outcome(**{**MODERATE, "conflicts": ["two different sedation times are documented (22, 40 minutes)"]})
    assert result.rule == "S9" and not result.codes and result.review and "22, 40" in result.warnings[0]


def test_no_procedure_on_the_claim_no_sedation_codes():
    assert outcome(has_procedure=False, **MODERATE).rule is None


def test_drugs_without_a_level_ask_for_it():
    result = outcome(sedative_given=True)
    assert result.rule == "SL" and [q.topic for q in result.queries] == ["sedation_level"]


def test_every_row_condition_is_defined_and_every_row_is_reachable():
    ids = [row["id"] for row in sedation_table()["rows"]]
    assert ids[:2] == ["S0", "S9"] and set(ids) >= {f"S{i}" for i in range(10)}


def test_sedatives_with_observer_and_time_but_no_level_ask_and_go_to_review():
    # the answer decides 99152: a query, and a coder looks (coding-rules 0.3)
    result = outcome(level=None, given_by="proceduralist", sedative_given=True, observer=True, minutes=42,
                     minutes_source="clock")
    assert result.rule == "SLR" and not result.codes and result.review
    assert [q.topic for q in result.queries] == ["sedation_level"]


def test_sedatives_without_level_observer_or_time_only_ask():
    result = outcome(level=None, sedative_given=True)
    assert result.rule == "SL" and not result.review and [q.topic for q in result.queries] == ["sedation_level"]
