"""Property tests (hypothesis) over randomly built NoteFacts."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from extractor.coding import assign_codes, load_codebook
from extractor.facts import LEVEL_ORDER, BiopsyLevel, LevelFacts, NoteFacts, NotTreated, region_of

VERTEBRAE = [lv for lv in LEVEL_ORDER if lv != "sacrum"]
IMAGING_CODES = {"77002", "77003", "77012", "72291", "72292"}
PRIMARIES = {
    "current": {"vertebroplasty": {"22510", "22511"}, "augmentation": {"22513", "22514"}},
    "legacy": {"vertebroplasty": {"22520", "22521"}, "augmentation": {"22523", "22524"}},
}
ADD_ONS = {
    "current": {"vertebroplasty": "22512", "augmentation": "22515"},
    "legacy": {"vertebroplasty": "22522", "augmentation": "22525"},
}
# regions coded by the unlisted 22899 instead of the family's primary/add-on
UNLISTED_REGIONS = {
    "current": {"vertebroplasty": set(), "augmentation": {"cervical"}},
    "legacy": {"vertebroplasty": {"cervical"}, "augmentation": {"cervical"}},
}
guidance = st.sampled_from([None, "ct", "fluoroscopy"])


@st.composite
def note_facts(draw) -> NoteFacts:
    levels = draw(st.lists(st.sampled_from(VERTEBRAE), unique=True, max_size=7))
    procedures = [
        LevelFacts(
            level=lv,
            technique=draw(st.sampled_from(["vertebroplasty", "augmentation"])),
            approach=draw(st.sampled_from([None, "unilateral", "bilateral"])),
            biopsy=draw(st.booleans()),
            guidance=draw(guidance),
        )
        for lv in levels
    ]
    if draw(st.booleans()):
        procedures.append(
            LevelFacts("sacrum", "sacroplasty", approach=draw(st.sampled_from([None, "unilateral", "bilateral"])),
                       guidance=draw(guidance))
        )
    rest = [lv for lv in VERTEBRAE if lv not in levels]
    biopsy_levels = draw(st.lists(st.sampled_from(rest), unique=True, max_size=2))
    aborted = draw(st.lists(st.sampled_from(rest), unique=True, max_size=1))
    return NoteFacts(
        procedures=procedures,
        biopsy_only=[BiopsyLevel(lv, draw(guidance)) for lv in biopsy_levels],
        imaging=draw(st.lists(st.sampled_from(["ct", "fluoroscopy"]), unique=True)),
        not_treated=[NotTreated(lv, "aborted") for lv in aborted],
        other_procedures=draw(st.lists(st.sampled_from(["tumor ablation", "moderate sedation"]), unique=True)),
        needle_only=draw(st.booleans()) if not procedures else False,
    )


code_sets = st.sampled_from(["current", "legacy"])


def _units(result, code: str) -> int:
    return sum(c.units for c in result.codes if c.code == code)


def _family_bodies(facts: NoteFacts, family: str, code_set: str) -> list[str]:
    return [p.level for p in facts.procedures
            if p.technique == family and region_of(p.level) not in UNLISTED_REGIONS[code_set][family]]


@settings(max_examples=300, deadline=None)
@given(note_facts(), code_sets)
def test_add_on_units_are_bodies_minus_one_per_family(facts, code_set):
    result = assign_codes(facts, code_set)
    for family in ("vertebroplasty", "augmentation"):
        n = len(_family_bodies(facts, family, code_set))
        primaries = [c for c in result.codes if c.code in PRIMARIES[code_set][family]]
        assert sum(c.units for c in primaries) == (1 if n else 0)
        assert _units(result, ADD_ONS[code_set][family]) == max(n - 1, 0)


@settings(max_examples=300, deadline=None)
@given(note_facts(), code_sets)
def test_never_two_primaries_of_one_family(facts, code_set):
    result = assign_codes(facts, code_set)
    for codes in PRIMARIES[code_set].values():
        assert len([c for c in result.codes if c.code in codes]) <= 1
    assert len([c for c in result.codes if c.code in ("0200T", "0201T")]) <= 1
    assert _units(result, "22899") <= 1


@settings(max_examples=300, deadline=None)
@given(note_facts())
def test_no_imaging_code_beside_a_treated_body_in_current_set(facts):
    result = assign_codes(facts, "current")
    if facts.procedures:
        assert not IMAGING_CODES & {c.code for c in result.codes}


@settings(max_examples=300, deadline=None)
@given(note_facts())
def test_legacy_imaging_units_equal_treated_bodies(facts):
    result = assign_codes(facts, "legacy")
    per_body = _units(result, "72291") + _units(result, "72292")
    assert per_body == len(facts.procedures)
    if facts.procedures:
        imaged = sorted(lv for c in result.codes if c.code in ("72291", "72292") for lv in c.levels)
        assert imaged == sorted(p.level for p in facts.procedures)


@settings(max_examples=300, deadline=None)
@given(note_facts(), code_sets)
def test_every_treated_body_in_exactly_one_procedure_code(facts, code_set):
    result = assign_codes(facts, code_set)
    procedure_levels = [lv for c in result.codes if c.code not in IMAGING_CODES | {"20225"} for lv in c.levels]
    assert sorted(procedure_levels) == sorted(p.level for p in facts.procedures)


@settings(max_examples=300, deadline=None)
@given(note_facts(), code_sets)
def test_biopsy_units_and_modifier(facts, code_set):
    result = assign_codes(facts, code_set)
    biopsy = [c for c in result.codes if c.code == "20225"]
    assert _units(result, "20225") == len(facts.biopsy_only)
    for c in biopsy:
        assert c.modifiers == (["59"] if facts.procedures else [])
    if facts.biopsy_only and not facts.procedures:
        assert _units(result, "77012") + _units(result, "77002") == 1


@settings(max_examples=300, deadline=None)
@given(note_facts(), code_sets)
def test_deterministic_and_order_independent(facts, code_set):
    first = assign_codes(facts, code_set).to_dict()
    assert assign_codes(facts, code_set).to_dict() == first
    shuffled = NoteFacts(
        procedures=random.Random(7).sample(facts.procedures, len(facts.procedures)),
        biopsy_only=list(reversed(facts.biopsy_only)),
        imaging=list(reversed(facts.imaging)),
        not_treated=facts.not_treated,
        other_procedures=facts.other_procedures,
        needle_only=facts.needle_only,
    )
    assert assign_codes(shuffled, code_set).to_dict() == first


@settings(max_examples=300, deadline=None)
@given(note_facts(), code_sets)
def test_output_sorted_each_code_once_and_from_the_table(facts, code_set):
    book = load_codebook()
    result = assign_codes(facts, code_set)
    codes = [c.code for c in result.codes]
    assert len(codes) == len(set(codes))
    keys = [(book.family_rank(book.info(c).family), c) for c in codes]
    assert keys == sorted(keys)
    for c in result.codes:
        info = book.info(c.code)
        assert info.emitted and c.units >= 1 and c.description == info.description
        assert c.rationale


@settings(max_examples=300, deadline=None)
@given(note_facts(), code_sets)
def test_review_when_out_of_scope_or_many_bodies(facts, code_set):
    result = assign_codes(facts, code_set)
    if facts.other_procedures or len(facts.procedures) > 3:
        assert result.review
    for name in facts.other_procedures:
        assert any(name in w for w in result.warnings)


@settings(max_examples=200, deadline=None)
@given(note_facts())
def test_pcs_counts(facts):
    result = assign_codes(facts)
    supplements = [p for p in result.pcs_codes if p.root_operation == "Supplement"]
    excisions = [p for p in result.pcs_codes if p.root_operation == "Excision"]
    assert sorted(p.level for p in supplements) == sorted(p.level for p in facts.procedures)
    biopsied = [p.level for p in facts.procedures if p.biopsy] + facts.biopsy_only_levels
    assert sorted(p.level for p in excisions) == sorted(biopsied)
