"""Which levels were treated now, and why the others were not (extractor/decide/treated.py)."""

import pytest
from markup import assert_markup


@pytest.mark.parametrize("markup", [
    ("HISTORY: prior <level not_treated=historical>L3</level> vertebroplasty in 2019.\n"
     "PROCEDURE: Vertebroplasty of <level>L1</level>, 3 mL PMMA injected."),
    ("PROCEDURE: Vertebroplasty of <level>L1</level>, 3 mL PMMA injected.\n"
     "PLAN: kyphoplasty of <level not_treated=planned>L4</level> if pain persists."),
    # a level whose needle was withdrawn before any filler was aborted
    ("Vertebroplasty of <level>T11</level> with 3 mL PMMA. At <level not_treated=aborted>T12</level> the "
     "procedure was aborted before cement injection because of a cortical breach."),
    # a level said not to be treated
    "Vertebroplasty of <level>L2</level> with 3 mL PMMA; <level not_treated=negated>L3</level> was not treated.",
    # a level named only as a finding of the imaging
    ("FINDINGS: compression deformity of <level not_treated=finding>T8</level>.\n"
     "PROCEDURE: Vertebroplasty of <level>T10</level> with 2 mL PMMA."),
    # a denied cavity says how the level was treated, not that it was not
    ("T11 (kyphoplasty): balloons inflated, PMMA 3 mL into <level>T11</level>.\nT6 (vertebroplasty): right "
     "needle. No balloon/cavity at <level technique=vertebroplasty>T6</level>. PMMA injected directly, 2.0 mL."),
    # a leak denied ("no cement in the foramina") is not a filling denied
    ("PROCEDURE: CT guided sacroplasty of the <level>sacrum</level>.\nTECHNIQUE: needles into both sacral alae; "
     "PMMA was injected, 4 mL each side. Post procedure CT: good fill, no cement in the S1 or S2 foramina."),
    # a denied inflation in the sentence that fills the level directly: the level is treated, by vertebroplasty
    ("Kyphoplasty of <level technique=augmentation>T12</level>: balloons inflated, PMMA 4 mL.\nAt "
     "<level technique=vertebroplasty>L1</level> the balloon could not be advanced, so the balloon was NOT "
     "inflated at L1, I chose to inject the cement directly, 2 cc of PMMA."),
    # an implant log's lines stand alone: the cement line does not fill the screw levels of the line before
    ("PROCEDURE: Pedicle screws <level not_treated=other>T11</level> and <level not_treated=other>L2</level>. "
     "Kyphoplasty of <level>L1</level>.\nIMPLANTS:\n- screws x 4 (T11, L2 bilaterally)\n- Kyphon PMMA bone "
     "cement, 1 kit\nTECHNIQUE: balloons inflated at L1, PMMA 5 mL injected into L1."),
    # cement delivered through screws augments the screws (instrumentation), it fills no body
    ("PROCEDURE: fenestrated pedicle screws at <level not_treated=other>L1</level> and "
     "<level not_treated=other>L3</level>; vertebroplasty of <level>L2</level>.\nTECHNIQUE: screws placed at L1 and "
     "L3. PMMA delivered through each screw, about 2 mL per screw. At L2 PMMA 3 mL was injected directly."),
    # a procedure title alone is the plan, not proof of filling: a session stopped before cement treats nothing
    pytest.param(
        "PROCEDURE: Vertebroplasty of <level not_treated=aborted>L1</level>.\n"
        "TECHNIQUE: The needle was placed; the procedure was aborted before cement injection because the "
        "patient could not lie prone.",
        marks=pytest.mark.xfail(strict=True, reason="known misread (issue 15): a session-wide abort gives the "
                                "named level the reason 'other', not 'aborted'")),
])
def test_treated_levels(extractor, markup):
    assert_markup(extractor, markup)


def test_a_session_stopped_with_needles_placed_asks_for_review(extractor):
    record = extractor.extract(
        "PROCEDURE: Vertebroplasty of L1.\nTECHNIQUE: The needle was placed; the procedure was aborted "
        "before cement injection.").to_dict()
    assert record["procedures"] == [] and record["review"] is True


def test_a_level_named_only_inside_a_range_is_a_concern_of_the_facts(extractor):
    from extractor.concerns import ConcernCode

    result = extractor.extract("PROCEDURE: kyphoplasty T11-L1. Cement injected at T11 and at L1.")
    ranged = [c for c in result.facts.concerns if c.code == ConcernCode.LEVEL_IN_RANGE_ONLY]
    assert [(c.levels, c.message) for c in ranged] == [
        (("T12",), "T12: treated only through the range T11-L1; not named on its own in the note")]
    assert ranged[0].message in result.warnings


@pytest.mark.parametrize("text, reason", [
    # a biopsy was all that was meant
    ("PROCEDURE: Vertebroplasty of T11 with 3 mL PMMA. A core biopsy of L2 was obtained; L2 was not injected.",
     "other"),
    # the planned treatment stopped after the biopsy
    (("PROCEDURE: CT-guided biopsy of L1, then the vertebroplasty of L1 was aborted because of a venous leak "
      "on the contrast run; no cement was injected."), "aborted"),
    # the treatment comes later
    (("PROCEDURE: CT-guided biopsy of T10 was obtained. Vertebroplasty of T10 will be scheduled after the "
      "pathology results."), "planned"),
    # a plan section that names the level's treatment, after its biopsy
    (("PROCEDURE: Vertebroplasty of T11 with 3 mL PMMA. A core biopsy of T10 was obtained.\nPLAN: "
      "vertebroplasty of T10 pending pathology."), "planned"),
])
def test_a_biopsied_level_is_listed_as_not_treated_with_its_reason(extractor, text, reason):
    record = extractor.extract(text).to_dict()
    level = record["biopsy_only_levels"][0]
    assert {n["level"]: n["reason"] for n in record["not_treated"]}[level] == reason


def test_an_abort_whose_filler_is_denied_is_a_stated_reason(extractor):
    stated = {n.level: n.stated for n in extractor.extract(
        "PROCEDURE: Kyphoplasty of T11 with balloon inflation and 4 mL PMMA.\n"
        "T9: the cannulas were placed, then the procedure was stopped because of desaturation; the T9 cannulas "
        "were removed without any balloon inflation or cement injection.").facts.not_treated}
    assert stated == {"T9": True}
    loose = {n.level: n.stated for n in extractor.extract(
        "PROCEDURE: Vertebroplasty of T11 with 3 mL PMMA. At T12 the procedure was aborted because of a "
        "cortical breach.").facts.not_treated}
    assert loose == {"T12": False}


def test_what_rather_than_sets_aside_ends_at_the_comma(extractor):
    # phenomenon: "Rather than force it, PMMA was injected" negates forcing the balloon, not the injection
    record = extractor.extract(
        "PROCEDURE: Kyphoplasty of L2.\nTECHNIQUE: The balloon could not be advanced and was withdrawn "
        "uninflated. Rather than force it, PMMA was injected directly through the right cannula: 3.5 mL.").to_dict()
    assert [(p["level"], p["technique"]) for p in record["procedures"]] == [("L2", "vertebroplasty")]
    assert not any("negated" in w for w in record["warnings"])


def test_a_device_not_used_does_not_negate_the_clause_after_the_colon(extractor):
    # phenomenon: "the balloon kit was opened but NOT used: PMMA was injected directly"
    record = extractor.extract(
        "PROCEDURE: Vertebroplasty of T9.\nTECHNIQUE: the balloon kit was opened but NOT used: PMMA was injected "
        "directly through the needle at T9, 3 mL.").to_dict()
    assert [(p["level"], p["technique"]) for p in record["procedures"]] == [("T9", "vertebroplasty")]
    assert not any("negated" in w for w in record["warnings"])


def test_a_level_of_the_last_session_is_historical(extractor):
    # phenomenon: a staged treatment; the other level was done at the last session
    record = extractor.extract(
        "PROCEDURE: Percutaneous vertebroplasty T12.\nDESCRIPTION: 11G needles advanced via both T12 pedicles. No "
        "bx (benign bx obtained at L1 last session). PMMA injected: total 3.8 mL.").to_dict()
    assert [p["level"] for p in record["procedures"]] == ["T12"]
    assert {n["level"]: n["reason"] for n in record["not_treated"]} == {"L1": "historical"}


def test_a_level_a_retold_procedure_treated_is_historical(extractor):
    # phenomenon: a discharge summary retells the kyphoplasty of its stay; no level is treated by this record,
    # and the level it tells of was treated in another session
    record = extractor.extract(
        "DISCHARGE SUMMARY\nHospital course: acute L2 fracture. On hospital day 2 she underwent L2 balloon "
        "kyphoplasty by IR; balloons were inflated and 4 mL of PMMA was injected. Discharged home.").to_dict()
    assert record["procedures"] == [] and record["codes"] == []
    assert {n["level"]: n["reason"] for n in record["not_treated"]} == {"L2": "historical"}


@pytest.mark.parametrize("markup", [
    # phenomenon: a prior procedure at the level, said without "prior" ("L2 kyphoplasty 2020")
    ("HISTORY: osteoporosis, <level not_treated=historical>L2</level> kyphoplasty 2020.\n"
     "PROCEDURE: Vertebroplasty of <level>L1</level>, 3 mL PMMA injected."),
    # phenomenon: cement of another time seen at the level
    ("FINDINGS: stable <level not_treated=historical>L3</level> cement.\n"
     "PROCEDURE: Vertebroplasty of <level>L1</level>, 3 mL PMMA injected."),
    # phenomenon: an old fracture is a finding, not a history of treatment; "not treated" gives no reason itself
    ("PROCEDURE: Vertebroplasty of <level>L1</level>, 3 mL PMMA injected.\n"
     "IMPRESSION: healed <level not_treated=finding>T11</level> fracture without edema; it was not treated."),
])
def test_not_treated_reasons_by_what_the_level_is(extractor, markup):
    assert_markup(extractor, markup)


@pytest.mark.parametrize("text, cancelled", [
    # called off before anything was done: a cancellation, not a stop after needles
    (("PLANNED PROCEDURE: L2 kyphoplasty.\nNOTE: Before sedation or any needle placement the patient became "
      "hypotensive. The procedure was cancelled and will be rescheduled."), True),
    ("Kyphoplasty T8. Case cancelled in pre-op holding: INR 2.9.", True),
    # a stop after the needles were placed is rule 22's other branch (modifier 53 / 74)
    (("PROCEDURE: Vertebroplasty of L1.\nTECHNIQUE: The needle was placed in the L1 pedicle; the procedure was "
      "cancelled before cement injection because of a cortical breach."), False),
    # a cancellation of another time is not this session's
    (("HISTORY: her L3 kyphoplasty last year was cancelled twice.\nPROCEDURE: Vertebroplasty of L1 with 3 mL "
      "PMMA."), False),
    ("PLAN: L4 kyphoplasty next week; if the procedure is cancelled she will be rebooked.", False),
])
def test_a_session_cancelled_before_any_needle(extractor, text, cancelled):
    result = extractor.extract(text)
    assert result.facts.session_cancelled is cancelled
    assert any("cancelled before any needle" in w for w in result.warnings) is cancelled
    if cancelled:
        record = result.to_dict()
        assert record["codes"] == [] and record["review"] is True


@pytest.mark.parametrize("text, level, reason", [
    # a plan that names the level without a procedure ("radiation oncology for T10") does not plan its treatment
    (("FINDINGS: small T10 myeloma lesion without fracture.\nPROCEDURE: Vertebroplasty of L1 with 3 mL PMMA.\n"
      "PLAN: radiation oncology for T10."), "T10", "finding"),
    (("PROCEDURE: Vertebroplasty of L1 with 3 mL PMMA.\nPLAN: kyphoplasty of T10 next week."), "T10", "planned"),
    # prep and drape extents and counting landmarks name no treated or untreated body
    (("PROCEDURE: Vertebroplasty of T9 with 3 mL PMMA. Prepped and draped from mid-thoracic to sacrum. The level "
      "was confirmed by counting both from the sacrum and from T12."), "sacrum", None),
    # an option whose template box is empty names nothing
    ("PROCEDURE:\n[x] Vertebroplasty\n[ ] Sacroplasty\nVertebroplasty of L1 with 3 mL PMMA.", "sacrum", None),
    # a biomarker is not a level
    ("PROCEDURE: Vertebroplasty of T12 with 3 mL PMMA and biopsy. Tissue for PD-L1 and molecular testing.", "L1",
     None),
    # its treatment denied in so many words, whatever else the level is
    (("FINDINGS: bone bruise at T10 without height loss.\nPROCEDURE: Kyphoplasty of T11 with balloons and 4 mL "
      "PMMA. No augmentation was performed at T10."), "T10", "negated"),
    # a prior procedure belongs to the nearest group of levels in a list, not to every level of the sentence
    (("FINDINGS: lytic lesion of L2 without fracture.\nPROCEDURE: Vertebroplasty of L1 with 3 mL PMMA.\n"
      "IMPRESSION: Not treated: T9 (no fracture), T12 (prior kyphoplasty, stable), T2 and L2 lytic lesions "
      "without fracture."), "L2", "finding"),
    (("PROCEDURE: Vertebroplasty of L1 with 3 mL PMMA.\nIMPRESSION: Not treated: T9 (no fracture), T12 (prior "
      "kyphoplasty, stable), T2 and L2 lytic lesions without fracture."), "T12", "historical"),
    # ... and levels joined by "and" share it
    ("HISTORY: T11 and T12 kyphoplasty in 2019.\nPROCEDURE: Vertebroplasty of L1 with 3 mL PMMA.", "T11",
     "historical"),
    # a denial of another level's treatment in the same sentence is not this one's
    (("PROCEDURE: Vertebroplasty of L1 with 3 mL PMMA.\nIMPRESSION: Prior L3 augmentation and chronic T9 wedging "
      "were not addressed."), "T9", "finding"),
    # care of another kind given before (radiotherapy, a brace) makes the level historical, not a finding
    (("HISTORY: palliative radiotherapy to a painful T4 lesion, 20 Gy in 5 fractions, last spring.\nPROCEDURE: "
      "Vertebroplasty of L1 with 3 mL PMMA."), "T4", "historical"),
    (("HISTORY: T7 compression fracture in 2015, managed with bracing alone.\nPROCEDURE: Vertebroplasty of L1 "
      "with 3 mL PMMA."), "T7", "historical"),
    # ... but care proposed or referred (a department, a plan, "to be treated") is none given
    (("HISTORY: a lytic L4 lesion without fracture is being referred for consideration of radiation.\n"
      "PROCEDURE: Vertebroplasty of L1 with 3 mL PMMA."), "L4", "finding"),
    (("HISTORY: small T6 deposit without fracture, discussed with radiation oncology.\nPROCEDURE: "
      "Vertebroplasty of L1 with 3 mL PMMA."), "T6", "finding"),
    # ... and a braced fracture now scheduled for kyphoplasty is planned
    (("HISTORY: T9 fracture, sent home with a TLSO.\nPROCEDURE: Vertebroplasty of L1 with 3 mL PMMA.\n"
      "PLAN: kyphoplasty of T9 next week."), "T9", "planned"),
    # a treatment put off to another session plans the level
    (("FINDINGS: acute L3 fracture with edema.\nPROCEDURE: Kyphoplasty of L1 with balloons and 4 mL PMMA.\n"
      "IMPRESSION: L3 could be treated at a later session if pain persists."), "L3", "planned"),
])
def test_the_reason_a_named_level_was_not_treated(extractor, text, level, reason):
    """reason None: the level is not listed at all (it names no vertebral body the note is about)."""
    record = extractor.extract(text).to_dict()
    assert {n["level"]: n["reason"] for n in record["not_treated"]}.get(level) == reason
    assert level not in {p["level"] for p in record["procedures"]}


def test_a_level_named_only_in_the_title_over_a_narrative_of_another_is_a_conflict(extractor):
    record = extractor.extract(
        "PROCEDURE: T7 KYPHOPLASTY\nTECHNIQUE: levels counted from T1; the fracture is at T8. T8: bilateral "
        "cannulas, balloons inflated, PMMA 4 mL into T8.").to_dict()
    assert [p["level"] for p in record["procedures"]] == ["T8"] and record["review"] is True
    assert any("T7: named in the procedure title only" in w for w in record["warnings"])
