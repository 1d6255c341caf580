"""Table-driven tests: one or more rows for every situation of coding-rules.md part 0, both code sets.

Facts are written by hand with a small notation: "T12:aug:bi:bx" = T12 augmentation, bilateral,
biopsied; "L2:vp:ct" = L2 vertebroplasty guided by CT; "sacrum:sp:uni" = unilateral sacroplasty.
"""

from __future__ import annotations

import datetime as dt

import pytest

from extractor.coding import assign_codes, resolve_code_set
from extractor.facts import BiopsyLevel, LevelFacts, NoteFacts, NotTreated

_TECH = {"vp": "vertebroplasty", "aug": "augmentation", "sp": "sacroplasty"}
_APPROACH = {"uni": "unilateral", "bi": "bilateral"}
_GUIDE = {"ct": "ct", "fl": "fluoroscopy"}


def body(spec: str) -> LevelFacts:
    level, tech, *flags = spec.split(":")
    lf = LevelFacts(level=level, technique=_TECH[tech])
    for flag in flags:
        if flag in _APPROACH:
            lf.approach = _APPROACH[flag]
        elif flag in _GUIDE:
            lf.guidance = _GUIDE[flag]
        elif flag == "bx":
            lf.biopsy = True
        elif flag == "graft":
            lf.cement = "bone_graft"
        else:
            raise ValueError(flag)
    if lf.technique == "augmentation":
        lf.cavity_device = "balloon"
    return lf


def facts(*specs: str, bx=(), imaging=("fluoroscopy",), aborted=(), needle_only=False, other=()) -> NoteFacts:
    biopsies = []
    for b in bx:
        level, _, guidance = b.partition(":")
        biopsies.append(BiopsyLevel(level, _GUIDE[guidance] if guidance else None))
    return NoteFacts(
        procedures=[body(s) for s in specs],
        biopsy_only=biopsies,
        imaging=list(imaging),
        not_treated=[NotTreated(level, "aborted") for level in aborted],
        needle_only=needle_only,
        other_procedures=list(other),
    )


def got(result) -> list[tuple]:
    return [(c.code, c.units, tuple(c.modifiers), tuple(c.levels)) for c in result.codes]


# (id, facts, expected current, expected legacy, review expected (current, legacy))
# expected: list of (code, units, modifiers, levels) in output order (family, then code)
ROWS = [
    # --- vertebroplasty, n bodies -----------------------------------------------------------
    ("vp-thoracic-1", facts("T12:vp:bi"),
     [("22510", 1, (), ("T12",))],
     [("22520", 1, (), ("T12",)), ("72291", 1, (), ("T12",))], (False, False)),
    ("vp-lumbar-1", facts("L3:vp:bi"),
     [("22511", 1, (), ("L3",))],
     [("22521", 1, (), ("L3",)), ("72291", 1, (), ("L3",))], (False, False)),
    ("vp-cervical-1", facts("C4:vp:uni"),
     [("22510", 1, (), ("C4",))],
     [("22899", 1, (), ("C4",)), ("72291", 1, (), ("C4",))], (False, True)),
    ("vp-T12-L1-thoracic-primary", facts("L1:vp:bi", "T12:vp:uni"),
     [("22510", 1, (), ("T12",)), ("22512", 1, (), ("L1",))],
     [("22520", 1, (), ("T12",)), ("22522", 1, (), ("L1",)), ("72291", 2, (), ("T12", "L1"))], (False, False)),
    ("vp-three-lumbar", facts("L1:vp", "L2:vp", "L4:vp"),
     [("22511", 1, (), ("L1",)), ("22512", 2, (), ("L2", "L4"))],
     [("22521", 1, (), ("L1",)), ("22522", 2, (), ("L2", "L4")), ("72291", 3, (), ("L1", "L2", "L4"))],
     (False, False)),
    ("vp-cervical-and-lumbar", facts("C5:vp", "L2:vp"),
     [("22510", 1, (), ("C5",)), ("22512", 1, (), ("L2",))],
     [("22521", 1, (), ("L2",)), ("22899", 1, (), ("C5",)), ("72291", 2, (), ("C5", "L2"))], (False, True)),
    ("vp-cervical-and-thoracic", facts("C7:vp", "T1:vp", "T2:vp"),
     [("22510", 1, (), ("C7",)), ("22512", 2, (), ("T1", "T2"))],
     [("22520", 1, (), ("T1",)), ("22522", 1, (), ("T2",)), ("22899", 1, (), ("C7",)),
      ("72291", 3, (), ("C7", "T1", "T2"))], (False, True)),
    # --- augmentation, n thoracic/lumbar bodies ------------------------------------------------
    ("aug-thoracic-1", facts("T11:aug:bi"),
     [("22513", 1, (), ("T11",))],
     [("22523", 1, (), ("T11",)), ("72291", 1, (), ("T11",))], (False, False)),
    ("aug-lumbar-1", facts("L2:aug:bi"),
     [("22514", 1, (), ("L2",))],
     [("22524", 1, (), ("L2",)), ("72291", 1, (), ("L2",))], (False, False)),
    ("aug-T12-L1-L2-thoracic-primary", facts("L2:aug", "T12:aug", "L1:aug"),
     [("22513", 1, (), ("T12",)), ("22515", 2, (), ("L1", "L2"))],
     [("22523", 1, (), ("T12",)), ("22525", 2, (), ("L1", "L2")), ("72291", 3, (), ("T12", "L1", "L2"))],
     (False, False)),
    ("aug-three-thoracic", facts("T7:aug:uni", "T8:aug:bi:bx", "T10:aug:bi"),
     [("22513", 1, (), ("T7",)), ("22515", 2, (), ("T8", "T10"))],
     [("22523", 1, (), ("T7",)), ("22525", 2, (), ("T8", "T10")), ("72291", 3, (), ("T7", "T8", "T10"))],
     (False, False)),
    # --- cervical augmentation -> unlisted -----------------------------------------------------
    ("aug-cervical-1", facts("C5:aug"),
     [("22899", 1, (), ("C5",))],
     [("22899", 1, (), ("C5",)), ("72291", 1, (), ("C5",))], (True, True)),
    ("aug-cervical-2-one-unlisted", facts("C5:aug", "C6:aug"),
     [("22899", 1, (), ("C5", "C6"))],
     [("22899", 1, (), ("C5", "C6")), ("72291", 2, (), ("C5", "C6"))], (True, True)),
    ("aug-cervical-plus-thoracic", facts("C7:aug", "T1:aug"),
     [("22513", 1, (), ("T1",)), ("22899", 1, (), ("C7",))],
     [("22523", 1, (), ("T1",)), ("22899", 1, (), ("C7",)), ("72291", 2, (), ("C7", "T1"))], (True, True)),
    ("cervical-vp-and-aug-no-59-beside-unlisted", facts("C4:vp", "C6:aug"),
     [("22510", 1, (), ("C4",)), ("22899", 1, (), ("C6",))],
     [("22899", 1, (), ("C4", "C6")), ("72291", 2, (), ("C4", "C6"))], (True, True)),
    # --- vertebroplasty and augmentation, different bodies -------------------------------------
    ("vp-and-aug-different-bodies", facts("T10:aug:bi", "L2:vp:bi"),
     [("22511", 1, ("59",), ("L2",)), ("22513", 1, (), ("T10",))],
     [("22521", 1, ("59",), ("L2",)), ("22523", 1, (), ("T10",)), ("72291", 2, (), ("T10", "L2"))],
     (False, False)),
    ("vp-and-aug-with-add-ons", facts("T8:vp", "T9:vp", "L1:aug", "L2:aug"),
     [("22510", 1, ("59",), ("T8",)), ("22512", 1, (), ("T9",)), ("22514", 1, (), ("L1",)),
      ("22515", 1, (), ("L2",))],
     [("22520", 1, ("59",), ("T8",)), ("22522", 1, (), ("T9",)), ("22524", 1, (), ("L1",)),
      ("22525", 1, (), ("L2",)), ("72291", 4, (), ("T8", "T9", "L1", "L2"))], (True, True)),
    # --- same body both -> augmentation only ---------------------------------------------------
    ("same-body-vp-and-aug", facts("L1:vp:bi", "L1:aug:bi"),
     [("22514", 1, (), ("L1",))],
     [("22524", 1, (), ("L1",)), ("72291", 1, (), ("L1",))], (False, False)),
    # --- sacroplasty -----------------------------------------------------------------------------
    ("sacroplasty-bilateral", facts("sacrum:sp:bi", imaging=("ct",)),
     [("0201T", 1, (), ("sacrum",))],
     [("0201T", 1, (), ("sacrum",)), ("72292", 1, (), ("sacrum",))], (False, False)),
    ("sacroplasty-unilateral", facts("sacrum:sp:uni"),
     [("0200T", 1, (), ("sacrum",))],
     [("0200T", 1, (), ("sacrum",)), ("72291", 1, (), ("sacrum",))], (False, False)),
    ("sacroplasty-approach-unknown", facts("sacrum:sp"),
     [("0200T", 1, (), ("sacrum",))],
     [("0200T", 1, (), ("sacrum",)), ("72291", 1, (), ("sacrum",))], (True, True)),
    ("sacroplasty-plus-lumbar-vp", facts("sacrum:sp:bi", "L5:vp"),
     [("22511", 1, (), ("L5",)), ("0201T", 1, (), ("sacrum",))],
     [("22521", 1, (), ("L5",)), ("0201T", 1, (), ("sacrum",)), ("72291", 2, (), ("L5", "sacrum"))],
     (False, False)),
    # --- imaging guidance ------------------------------------------------------------------------
    ("imaging-included-current-ct-and-fluoro", facts("T12:vp:ct"), [("22510", 1, (), ("T12",))],
     [("22520", 1, (), ("T12",)), ("72292", 1, (), ("T12",))], (False, False)),
    ("legacy-imaging-per-body-modality", facts("T12:aug:ct", "L1:aug:fl", imaging=("ct", "fluoroscopy")),
     [("22513", 1, (), ("T12",)), ("22515", 1, (), ("L1",))],
     [("22523", 1, (), ("T12",)), ("22525", 1, (), ("L1",)), ("72291", 1, (), ("L1",)),
      ("72292", 1, (), ("T12",))], (False, False)),
    ("legacy-imaging-ct-only-session-fallback", facts("C4:vp", imaging=("ct",)),
     [("22510", 1, (), ("C4",))],
     [("22899", 1, (), ("C4",)), ("72292", 1, (), ("C4",))], (False, True)),
    ("legacy-imaging-ambiguous-fallback", facts("L4:vp", imaging=("ct", "fluoroscopy")),
     [("22511", 1, (), ("L4",))],
     [("22521", 1, (), ("L4",)), ("72291", 1, (), ("L4",))], (False, True)),
    ("legacy-imaging-none-recorded", facts("L4:vp", imaging=()),
     [("22511", 1, (), ("L4",))],
     [("22521", 1, (), ("L4",)), ("72291", 1, (), ("L4",))], (False, True)),
    # --- biopsy ----------------------------------------------------------------------------------
    ("biopsy-of-treated-body-included", facts("L1:aug:bi:bx"),
     [("22514", 1, (), ("L1",))],
     [("22524", 1, (), ("L1",)), ("72291", 1, (), ("L1",))], (False, False)),
    ("biopsy-untreated-body-fluoro", facts("L2:vp:bi", bx=("T6:fl",)),
     [("22511", 1, (), ("L2",)), ("20225", 1, ("59",), ("T6",))],
     [("22521", 1, (), ("L2",)), ("20225", 1, ("59",), ("T6",)), ("72291", 1, (), ("L2",))], (False, False)),
    ("biopsy-untreated-body-ct-only-for-biopsy", facts("L2:vp:bi:fl", bx=("T6:ct",), imaging=("ct", "fluoroscopy")),
     [("22511", 1, (), ("L2",)), ("20225", 1, ("59",), ("T6",))],
     [("22521", 1, (), ("L2",)), ("20225", 1, ("59",), ("T6",)), ("72291", 1, (), ("L2",))], (True, True)),
    ("biopsy-two-untreated-bodies", facts("T12:aug", bx=("T6:fl", "L3:fl")),
     [("22513", 1, (), ("T12",)), ("20225", 2, ("59",), ("T6", "L3"))],
     [("22523", 1, (), ("T12",)), ("20225", 2, ("59",), ("T6", "L3")), ("72291", 1, (), ("T12",))],
     (False, False)),
    ("biopsy-only-session-ct", facts(bx=("T6:ct", "T7:ct"), imaging=("ct",)),
     [("20225", 2, (), ("T6", "T7")), ("77012", 1, (), ("T6", "T7"))],
     [("20225", 2, (), ("T6", "T7")), ("77012", 1, (), ("T6", "T7"))], (False, False)),
    ("biopsy-only-session-fluoro", facts(bx=("L3:fl",)),
     [("20225", 1, (), ("L3",)), ("77002", 1, (), ("L3",))],
     [("20225", 1, (), ("L3",)), ("77002", 1, (), ("L3",))], (False, False)),
    ("biopsy-only-session-guidance-from-imaging", facts(bx=("L3",), imaging=("ct",)),
     [("20225", 1, (), ("L3",)), ("77012", 1, (), ("L3",))],
     [("20225", 1, (), ("L3",)), ("77012", 1, (), ("L3",))], (False, False)),
    ("biopsy-only-session-both-modalities-assumes-ct", facts(bx=("L3",), imaging=("ct", "fluoroscopy")),
     [("20225", 1, (), ("L3",)), ("77012", 1, (), ("L3",))],
     [("20225", 1, (), ("L3",)), ("77012", 1, (), ("L3",))], (True, True)),
    ("biopsy-only-session-no-imaging-assumes-fluoro", facts(bx=("L3",), imaging=()),
     [("20225", 1, (), ("L3",)), ("77002", 1, (), ("L3",))],
     [("20225", 1, (), ("L3",)), ("77002", 1, (), ("L3",))], (True, True)),
    # --- needle only / aborted -------------------------------------------------------------------
    ("needle-only-flag", facts(needle_only=True), [], [], (True, True)),
    ("needle-only-aborted-level", facts(aborted=("L2",)), [], [], (True, True)),
    ("aborted-level-others-treated", facts("T11:aug:bi:bx", aborted=("T9",)),
     [("22513", 1, (), ("T11",))],
     [("22523", 1, (), ("T11",)), ("72291", 1, (), ("T11",))], (False, False)),
    ("aborted-but-biopsy-taken", facts(bx=("L2:fl",), aborted=("L2",)),
     [("20225", 1, (), ("L2",)), ("77002", 1, (), ("L2",))],
     [("20225", 1, (), ("L2",)), ("77002", 1, (), ("L2",))], (False, False)),
    ("nothing-done", facts(imaging=()), [], [], (False, False)),
    # --- more than 3 bodies / MUE ----------------------------------------------------------------
    ("four-bodies-coded-and-flagged", facts("T10:aug", "T11:aug", "T12:aug", "L1:aug"),
     [("22513", 1, (), ("T10",)), ("22515", 3, (), ("T11", "T12", "L1"))],
     [("22523", 1, (), ("T10",)), ("22525", 3, (), ("T11", "T12", "L1")),
      ("72291", 4, (), ("T10", "T11", "T12", "L1"))], (True, True)),
    ("six-bodies-above-mue", facts("T8:aug", "T9:aug", "T10:aug", "T11:aug", "T12:aug", "L1:aug"),
     [("22513", 1, (), ("T8",)), ("22515", 5, (), ("T9", "T10", "T11", "T12", "L1"))],
     [("22523", 1, (), ("T8",)), ("22525", 5, (), ("T9", "T10", "T11", "T12", "L1")),
      ("72291", 6, (), ("T8", "T9", "T10", "T11", "T12", "L1"))], (True, True)),
    # --- out of scope ----------------------------------------------------------------------------
    ("other-procedures-warn-not-coded", facts("L1:aug:bi", other=("tumor ablation", "moderate sedation")),
     [("22514", 1, (), ("L1",))],
     [("22524", 1, (), ("L1",)), ("72291", 1, (), ("L1",))], (True, True)),
]


@pytest.mark.parametrize(("name", "note_facts", "current", "legacy", "review"), ROWS, ids=[r[0] for r in ROWS])
def test_part0_rows(name, note_facts, current, legacy, review):
    cur = assign_codes(note_facts, "current")
    leg = assign_codes(note_facts, "legacy")
    assert cur.code_set == "current" and leg.code_set == "legacy"
    assert got(cur) == current
    assert got(leg) == legacy
    assert (cur.review, leg.review) == review, (cur.warnings, leg.warnings)


def _warnings(note_facts, code_set="current"):
    return " | ".join(assign_codes(note_facts, code_set).warnings)


def test_thoracic_primary_rationale_says_why_and_allows_override():
    code = assign_codes(facts("T12:aug", "L1:aug")).codes[0]
    assert code.code == "22513"
    assert "AAPC correction" in code.rationale and "may override" in code.rationale
    assert "T12" in code.rationale and "L1" in code.rationale


def test_vp_primary_rationale_mentions_modifier_59():
    vp = next(c for c in assign_codes(facts("T10:aug", "L2:vp")).codes if c.code == "22511")
    assert vp.modifiers == ["59"] and "59" in vp.rationale and "XS" in vp.rationale


def test_add_on_codes_carry_no_modifier():
    result = assign_codes(facts("T8:vp", "T9:vp", "L1:aug", "L2:aug"))
    assert all(c.modifiers == [] for c in result.codes if c.code in ("22512", "22515"))


def test_same_body_both_warns():
    assert "augmentation (rule 12)" in _warnings(facts("L1:vp", "L1:aug"))


def test_sacroplasty_without_approach_warns():
    assert "approach not stated" in _warnings(facts("sacrum:sp"))


def test_sacrum_recorded_as_vertebroplasty_is_coded_as_sacroplasty_and_flagged():
    result = assign_codes(facts("sacrum:vp:bi"))
    assert got(result) == [("0201T", 1, (), ("sacrum",))]
    assert result.review and "22511" in " ".join(result.warnings)


def test_sacroplasty_technique_on_a_vertebra_is_flagged():
    result = assign_codes(facts("L5:sp"))
    assert got(result) == [("22511", 1, (), ("L5",))]
    assert result.review


def test_biopsy_ct_only_warning_names_77012_59():
    text = _warnings(facts("L2:vp:fl", bx=("T6:ct",), imaging=("ct", "fluoroscopy")))
    assert "77012-59" in text and "T6" in text


def test_biopsy_ct_no_warning_when_ct_also_guided_treatment():
    result = assign_codes(facts("L2:vp:ct", bx=("T6:ct",), imaging=("ct",)))
    assert not result.review and "77012" not in " ".join(result.warnings)


def test_biopsy_only_level_that_was_treated_is_included():
    result = assign_codes(facts("L2:vp", bx=("L2:fl",)))
    assert got(result) == [("22511", 1, (), ("L2",))]
    assert [p.code for p in result.pcs_codes] == ["0QU03JZ", "0QB03ZX"]


def test_needle_only_warning_mentions_modifier_53():
    text = _warnings(facts(needle_only=True))
    assert "53" in text and "no procedure code" in text


def test_needle_only_flag_with_treated_bodies_codes_them_and_flags():
    result = assign_codes(facts("L1:vp", needle_only=True))
    assert got(result) == [("22511", 1, (), ("L1",))] and result.review


def test_a_session_cancelled_before_any_needle_is_not_a_53_and_asks_for_review():
    cancelled = facts(aborted=("L2",))
    cancelled.session_cancelled = True
    result = assign_codes(cancelled)
    text = " ".join(result.warnings)
    assert result.codes == [] and result.review
    assert "cancelled before any needle (L2)" in text and "73" in text and "modifier 53" not in text


def test_needles_placed_then_stopped_stays_a_53_even_when_the_note_says_cancelled():
    stopped = facts(aborted=("L2",), needle_only=True)
    stopped.session_cancelled = True  # the decision layer never sets both; the needles decide
    text = _warnings(stopped)
    assert "needles placed" in text and "modifier 53" in text and "cancelled before" not in text


def test_aborted_level_warning_without_review():
    result = assign_codes(facts("T11:aug", aborted=("T9",)))
    assert "T9" in " ".join(result.warnings) and not result.review


def test_more_than_three_bodies_warns():
    assert "4 bodies treated" in _warnings(facts("T10:aug", "T11:aug", "T12:aug", "L1:aug"))


def test_mue_warning_for_22515_above_4():
    text = _warnings(facts("T8:aug", "T9:aug", "T10:aug", "T11:aug", "T12:aug", "L1:aug"))
    assert "22515 x 5" in text and "MUE of 4" in text


def test_22515_at_four_units_has_no_mue_warning():
    text = _warnings(facts("T8:aug", "T9:aug", "T10:aug", "T11:aug", "T12:aug"))
    assert "MUE" not in text


def test_other_procedures_one_warning_each():
    result = assign_codes(facts("L1:aug", other=("tumor ablation", "moderate sedation", "tumor ablation")))
    named = [w for w in result.warnings if w.startswith("out of scope")]
    assert len(named) == 2
    assert "tumor ablation" in named[0] and "moderate sedation" in named[1]
    assert all(c.code in ("22514",) for c in result.codes)


def test_cervical_augmentation_unlisted_is_flagged():
    assert "22899" in _warnings(facts("C5:aug"))


# --- code set selection -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code_set", "day", "expected"),
    [
        ("current", None, "current"),
        ("legacy", None, "legacy"),
        ("auto", None, "current"),
        ("auto", "2014-12-31", "legacy"),
        ("auto", "2015-01-01", "current"),
        ("auto", dt.date(2009, 5, 1), "legacy"),
        ("auto", dt.datetime(2020, 5, 1, 10, 30), "current"),
        ("auto", "2014-06-30T08:00:00", "legacy"),
        ("current", "2010-01-01", "current"),
    ],
)
def test_code_set_resolution(code_set, day, expected):
    assert resolve_code_set(code_set, day) == expected
    assert assign_codes(facts("T12:vp"), code_set, day).code_set == expected


@pytest.mark.parametrize("bad", ["Current", "2015", "", "icd10"])
def test_unknown_code_set_rejected(bad):
    with pytest.raises(ValueError):
        assign_codes(facts("T12:vp"), bad)


def test_bad_date_rejected():
    with pytest.raises(ValueError):
        assign_codes(facts("T12:vp"), "auto", "last tuesday")


def test_auto_legacy_gives_legacy_codes():
    result = assign_codes(facts("T12:vp"), "auto", "2013-03-04")
    assert [c.code for c in result.codes] == ["22520", "72291"]
    assert result.date_of_service.value == "2013-03-04" and result.date_of_service.source == "caller"
    assert not result.review


def test_codes_outside_their_dates_are_flagged():
    result = assign_codes(facts("T12:vp"), "current", "2012-01-01")
    assert result.review and any("22510 is not valid" in w for w in result.warnings)
    result = assign_codes(facts("T12:aug"), "legacy", "2004-01-01")
    assert result.review and any("22523 is not valid" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("note_facts", "error"),
    [
        (NoteFacts(procedures=[LevelFacts("T13", "vertebroplasty")]), ValueError),
        (NoteFacts(procedures=[LevelFacts("T12", "cementoplasty")]), ValueError),
        (NoteFacts(procedures=[LevelFacts("T12", "vertebroplasty", approach="both")]), ValueError),
        (NoteFacts(procedures=[LevelFacts("T12", "vertebroplasty")], imaging=["mri"]), ValueError),
        (NoteFacts(biopsy_only=[BiopsyLevel("S1")]), ValueError),
    ],
)
def test_invalid_facts_rejected(note_facts, error):
    with pytest.raises(error):
        assign_codes(note_facts)


# --- ICD-10-PCS ---------------------------------------------------------------------------------


def test_pcs_one_per_treated_body_and_per_biopsied_body():
    result = assign_codes(facts("C4:vp:bx", "T12:aug", "L1:aug:bx", "sacrum:sp:bi", bx=("T6:fl", "L3:fl")))
    assert [(p.code, p.level, p.root_operation) for p in result.pcs_codes] == [
        ("0PU33JZ", "C4", "Supplement"),
        ("0PB33ZX", "C4", "Excision"),
        ("0PB43ZX", "T6", "Excision"),
        ("0PU43JZ", "T12", "Supplement"),
        ("0QU03JZ", "L1", "Supplement"),
        ("0QB03ZX", "L1", "Excision"),
        ("0QB03ZX", "L3", "Excision"),
        ("0QU13JZ", "sacrum", "Supplement"),
    ]
    assert all(p.description and p.system == "ICD-10-PCS" for p in result.pcs_codes)


def test_pcs_same_in_both_code_sets():
    f = facts("T12:aug", "L1:vp:bx")
    assert assign_codes(f, "current").pcs_codes == assign_codes(f, "legacy").pcs_codes


def test_pcs_bone_graft_device_warning():
    result = assign_codes(facts("L1:aug:graft"))
    assert any("bone graft" in w and "0QU03JZ" in w for w in result.warnings)


def test_pcs_biopsy_only_session():
    result = assign_codes(facts(bx=("T6:ct",), imaging=("ct",)))
    assert [(p.code, p.level) for p in result.pcs_codes] == [("0PB43ZX", "T6")]


# --- output shape -------------------------------------------------------------------------------


def test_code_to_dict_has_exactly_the_contract_keys():
    result = assign_codes(facts("T10:aug", "L2:vp", bx=("T6:fl",)), "legacy")
    for code in result.codes:
        d = code.to_dict()
        assert set(d) == {"code", "units", "system", "modifiers", "levels", "description", "rationale"}
        assert d["system"] == "CPT" and isinstance(d["units"], int) and d["description"] and d["rationale"]


def test_result_to_dict_is_json_ready():
    import json

    result = assign_codes(facts("T12:aug", bx=("T6:ct",), imaging=("ct", "fluoroscopy")), "auto", "2020-02-02")
    d = json.loads(json.dumps(result.to_dict()))
    assert d["code_set"] == "current" and d["review"] is True and d["date_of_service"] == {"value": "2020-02-02", "source": "caller", "evidence": None}
    assert [c["code"] for c in d["codes"]] == ["22513", "20225"]
    assert {p["code"] for p in d["pcs_codes"]} == {"0PU43JZ", "0PB43ZX"}


def test_input_facts_are_not_modified():
    f = facts("L1:vp", "L1:aug", bx=("L1:fl",))
    before = repr(f)
    assign_codes(f, "legacy")
    assert repr(f) == before
