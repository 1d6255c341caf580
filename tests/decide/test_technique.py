"""Technique and cavity device by what happened (extractor/decide/technique.py)."""

import pytest
from markup import assert_markup


@pytest.mark.parametrize("markup", [
    # an inflated balloon made a cavity
    ("Balloon kyphoplasty of <level technique=augmentation cavity_device=balloon>L1</level>: the balloon was "
    "inflated to create a cavity and 4 mL PMMA was injected."),
    # a mechanical device made the cavity
    ("Vertebral augmentation of <level technique=augmentation cavity_device=mechanical>T12</level>: an "
    "osteotome was used to create a cavity, then 3 mL PMMA was injected."),
    # a balloon handled but never inflated made no cavity
    ("Vertebroplasty of <level technique=vertebroplasty cavity_device=none>L2</level>: a balloon was opened "
    "but not used; 3 mL PMMA was injected directly."),
    # a balloon taken to its pressure was inflated ("b/l balloons to 180 psi")
    ("T12 done. <level technique=augmentation cavity_device=balloon>L1</level>: b/l trocars, b/l balloons to "
     "180 psi, then PMMA 3.5 mL."),
    # no cavity words at all: vertebroplasty
    "Percutaneous vertebroplasty of <level technique=vertebroplasty>T8</level> with 2.5 mL PMMA.",
    # the procedure name alone, kyphoplasty, is an augmentation with a balloon
    ("PROCEDURE: Kyphoplasty of <level technique=augmentation cavity_device=balloon>L3</level>, 5 mL PMMA "
    "injected."),
    # the sacrum is a sacroplasty
    ("CT-guided sacroplasty of the <level technique=sacroplasty>sacrum</level>; 6 mL PMMA was injected into "
    "the left sacral ala."),
    # a cavity cue denied: vertebroplasty
    pytest.param(
        "Vertebroplasty of <level technique=vertebroplasty>T10</level>; no balloon was inflated and 3 mL "
        "PMMA was injected.",
        marks=pytest.mark.xfail(strict=True, reason='known misread (issue 15): the negation of the balloon reaches the PMMA')),
])
def test_technique(extractor, markup):
    assert_markup(extractor, markup)


def test_a_narrative_denial_outranks_a_template_default(extractor):
    # phenomenon: "Cavity creation: balloon" left at its default; the narrative says no balloon was inflated
    record = extractor.extract(
        "Procedure: Kyphoplasty L3\nCavity creation: balloon\nBalloon inflation pressure: *** psi\n"
        "Narrative: an 11-gauge cannula was advanced into L3. Because of the cleft, the balloon tamp was not "
        "inflated and was not used. PMMA was injected directly through the cannula, 3.4 mL.").to_dict()
    assert [(p["level"], p["technique"]) for p in record["procedures"]] == [("L3", "vertebroplasty")]


def test_before_the_tamp_was_inflated_orders_steps_and_denies_nothing(extractor):
    record = extractor.extract(
        "PROCEDURE: Kyphoplasty T10.\nAt T10 one bone tamp was inflated to 1.5 mL and the cavity was then filled "
        "with 2.0 mL of PMMA. A bone biopsy was obtained through the T10 cannula before the tamp was inflated.").to_dict()
    assert [(p["level"], p["technique"]) for p in record["procedures"]] == [("T10", "augmentation")]


def test_a_denial_in_a_row_naming_another_level_is_not_about_this_one(extractor):
    # phenomenon: a level table flattened into one line; "not inflated" belongs to the L1 row before L2
    record = extractor.extract(
        "PROCEDURE: Kyphoplasty L1, L2. L1: cannulas placed, balloons were NOT inflated; direct cement injection, "
        "PMMA 3.0 cc. L2: single balloon inflated to 190 psi, PMMA 3.5 cc. LEVEL TABLE Level Balloon PMMA L1 NO - "
        "not inflated 3.0 L2 yes 3.5.").to_dict()
    assert {p["level"]: p["technique"] for p in record["procedures"]}["L2"] == "augmentation"


def test_a_kyphoplasty_done_with_a_balloon_is_an_augmentation_without_the_word_inflated(extractor):
    # phenomenon (issue 15 item 5): technique by what happened, not by the word "inflated"
    record = extractor.extract(
        "PROCEDURE: Kyphoplasty of L1.\nTECHNIQUE: bilateral transpedicular access to L1; kyphoplasty of L1 was "
        "performed with a Kyphon balloon and 4 mL PMMA.").to_dict()
    assert [(p["level"], p["technique"], p["cavity_device"]) for p in record["procedures"]] == [
        ("L1", "augmentation", "balloon")]
