"""One sentence or short note per rule, and the fact it must give (edsnlp-style inline examples)."""

import pytest

from extractor import extract


def facts(text):
    rec = extract(text).to_dict()
    return rec, {p["level"]: p for p in rec["procedures"]}


@pytest.mark.parametrize(
    "text, levels",
    [
        ("Vertebroplasty of T-12 with 3 mL PMMA.", ["T12"]),
        ("Vertebroplasty of T 12 with 3 mL PMMA.", ["T12"]),
        ("vertebroplasty of t12 with 3 ml pmma.", ["T12"]),
        ("Vertebroplasty of the twelfth thoracic vertebral body with 3 mL PMMA.", ["T12"]),
        ("Balloon kyphoplasty of the first lumbar vertebra; balloons inflated, then PMMA injected.", ["L1"]),
        ("Vertebroplasty of D12 with 3 mL PMMA.", ["T12"]),
        ("Vertebroplasty T11-L1, PMMA injected at each level.", ["T11", "T12", "L1"]),
        ("Vertebroplasty T12 through L2, PMMA injected at each level.", ["T12", "L1", "L2"]),
        ("Vertebroplasty of T11, T12 and L1 with PMMA injected at each level.", ["T11", "T12", "L1"]),
        ("kyphoplasty at el one, balloon inflated and 4 cc cement was injected.", ["L1"]),
        ("Vertebroplasty of the odontoid (C2) under CT guidance, 1.5 mL PMMA injected.", ["C2"]),
    ],
)
def test_level_notations(text, levels):
    _, procs = facts(text)
    assert sorted(procs, key=levels.index) == levels


@pytest.mark.parametrize(
    "text, treated, untreated, reason",
    [
        ("HISTORY: prior L3 vertebroplasty in 2019.\nPROCEDURE: Vertebroplasty of L1, 3 mL PMMA injected.",
         "L1", "L3", "historical"),
        (("PROCEDURE: Vertebroplasty of L1, 3 mL PMMA injected. If the L4 fracture remains painful we will "
          "consider kyphoplasty."), "L1", "L4", "planned"),
        ("TECHNIQUE: Vertebroplasty of L1 with 3 mL PMMA was performed. No cement was placed at L2.",
         "L1", "L2", "negated"),
        (("TECHNIQUE: T11: balloons inflated and 3 mL PMMA injected. T9: cannulas placed, then the procedure "
          "was aborted before any cement delivery."), "T11", "T9", "aborted"),
    ],
)
def test_only_this_session_is_treated(text, treated, untreated, reason):
    rec, procs = facts(text)
    assert list(procs) == [treated]
    assert {"level": untreated, "reason": reason} in rec["not_treated"]


def test_consult_performs_nothing():
    rec, procs = facts(
        "REASON FOR CONSULTATION: L2 fracture.\nPLAN: Recommend L2 kyphoplasty next week. "
        "No procedure was performed today."
    )
    assert procs == {} and rec["codes"] == []


def test_kyphoplasty_without_inflation_is_vertebroplasty():
    _, procs = facts(
        "PROCEDURE: Kyphoplasty of L3.\nTECHNIQUE: Cannulas placed in L3. The balloon tamps were not inflated "
        "because of a cleft; PMMA was injected directly, 4 mL."
    )
    assert procs["L3"]["technique"] == "vertebroplasty" and procs["L3"]["cavity_device"] is None


def test_vertebroplasty_title_with_inflated_balloon_is_augmentation():
    _, procs = facts(
        "EXAMINATION: Vertebroplasty of T9.\nTECHNIQUE: A bone tamp was inflated in T9 to 2 mL, then 3 mL "
        "PMMA was injected into the cavity."
    )
    assert procs["T9"]["technique"] == "augmentation" and procs["T9"]["cavity_device"] == "balloon"


@pytest.mark.parametrize("device", ["an articulating osteotome", "SpineJack implants", "a curette"])
def test_mechanical_cavity(device):
    _, procs = facts(f"TECHNIQUE: At L2, a cavity was created with {device}, then PMMA was injected, 4 mL.")
    assert procs["L2"]["technique"] == "augmentation" and procs["L2"]["cavity_device"] == "mechanical"


def test_sacroplasty():
    _, procs = facts("Sacroplasty under CT guidance: needles in both sacral alae, 3 cc PMMA injected per side.")
    assert procs["sacrum"]["technique"] == "sacroplasty" and procs["sacrum"]["approach"] == "bilateral"


@pytest.mark.parametrize(
    "phrase, approach, side",
    [
        ("a bilateral transpedicular approach", "bilateral", None),
        ("a bipedicular approach", "bilateral", None),
        ("a right unipedicular approach", "unilateral", "right"),
        ("a unilateral left transpedicular approach", "unilateral", "left"),
        ("a unipedicular approach", "unilateral", None),
    ],
)
def test_approach_and_side(phrase, approach, side):
    _, procs = facts(f"TECHNIQUE: Vertebroplasty of L2 using {phrase}; 3 mL PMMA was injected.")
    assert (procs["L2"]["approach"], procs["L2"]["side"]) == (approach, side)


def test_side_not_stated_is_null():
    _, procs = facts("Vertebroplasty of L5 with 4 mL PMMA under fluoroscopy.")
    assert procs["L5"]["approach"] is None and procs["L5"]["side"] is None


def test_exception_to_a_global_approach_wins():
    _, procs = facts(
        "TECHNIQUE: T12 and L1 were treated with bipedicular vertebroplasty, except that at T12 the right pedicle "
        "could not be cannulated, so T12 was done from the left only. PMMA was injected at each level."
    )
    assert procs["T12"]["approach"] == "unilateral" and procs["T12"]["side"] == "left"
    assert procs["L1"]["approach"] == "bilateral"


@pytest.mark.parametrize(
    "filler, cement",
    [
        ("PMMA", "pmma"),
        ("polymethylmethacrylate", "pmma"),
        ("KYPHON HV-R bone cement", "pmma"),
        ("calcium phosphate bone cement", "bone_substitute"),
        ("Cortoss", "bone_substitute"),
        ("cancellous allograft chips", "bone_graft"),
        ("bone cement", None),
    ],
)
def test_filler_type(filler, cement):
    _, procs = facts(f"TECHNIQUE: Vertebroplasty of L2; 3 mL of {filler} was injected.")
    assert procs["L2"]["cement"] == cement


@pytest.mark.parametrize(
    "sentence, biopsy",
    [
        ("Two cores were obtained and sent to pathology.", True),
        ("A core biopsy was obtained.", True),
        ("No biopsy was obtained.", False),
        ("Biopsy was deferred.", False),
        ("Bx: none.", False),
    ],
)
def test_biopsy(sentence, biopsy):
    _, procs = facts(f"TECHNIQUE: L2 vertebroplasty: 3 mL PMMA was injected. {sentence}")
    assert procs["L2"]["biopsy"] is biopsy


def test_biopsy_of_untreated_level():
    rec, procs = facts(
        "TECHNIQUE: T6: CT-guided core biopsy, three cores obtained; no cement was injected at T6.\n"
        "L2: under fluoroscopy, 4 mL PMMA was injected."
    )
    assert list(procs) == ["L2"] and rec["biopsy_only_levels"] == ["T6"]
    assert sorted(c["code"] for c in rec["codes"]) == ["20225", "22511"]


@pytest.mark.parametrize(
    "text, imaging",
    [
        ("Under biplane fluoroscopy, L2 vertebroplasty with 3 mL PMMA.", ["fluoroscopy"]),
        ("Under intermittent CT guidance, L2 vertebroplasty with 3 mL PMMA.", ["ct"]),
        ("HISTORY: MRI and outside CT reviewed.\nTECHNIQUE: With C-arm guidance, L2 vertebroplasty, 3 mL PMMA.",
         ["fluoroscopy"]),
    ],
)
def test_imaging_this_session_only(text, imaging):
    rec, _ = facts(text)
    assert rec["imaging"] == imaging


def test_unchecked_boxes_are_not_done():
    _, procs = facts("[ ] Vertebroplasty  [X] Balloon kyphoplasty  Level: L1\nBalloons inflated; 4 mL PMMA injected.")
    assert procs["L1"]["technique"] == "augmentation"


def test_addendum_correcting_the_level_wins():
    _, procs = facts(
        "TECHNIQUE: Vertebroplasty of L2 from the left, 3 mL PMMA injected.\n\nADDENDUM: The treated level was "
        "L3, not L2. L2 was not treated."
    )
    assert list(procs) == ["L3"] and procs["L3"]["side"] == "left"


def test_export_noise_keeps_offsets():
    text = "PROCEDURE:\u00a0Vertebroplasty\tT12,\r\n3\u00a0mL \u201cPMMA\u201d injected."
    _, procs = facts(text)
    assert "T12" in procs
    for e in procs["T12"]["evidence"]:
        assert text[e["start"] : e["end"]] == e["text"]


def test_mri_sequence_names_are_not_levels():
    rec, procs = facts("HISTORY: T1-hypointense marrow and T2 signal.\nTECHNIQUE: L4 vertebroplasty, 3 mL PMMA.")
    assert list(procs) == ["L4"] and all(n["level"] not in ("T1", "T2") for n in rec["not_treated"])


def test_pipe_table_rows_carry_their_columns():
    rec, procs = facts(
        "TECHNIQUE: Vertebroplasty at each level listed; PMMA injected under fluoroscopy.\n"
        "| Level | Side | Biopsy | PMMA |\n|---|---|---|---|\n"
        "| T9 | left | no | 2.0 mL |\n| T10 | right | yes | 2.5 mL |\n"
    )
    assert procs["T9"]["biopsy"] is False and procs["T10"]["biopsy"] is True
    assert procs["T9"]["side"] == "left" and procs["T10"]["side"] == "right"
    assert rec["biopsy_only_levels"] == []


def test_addendum_naming_an_error_corrects_the_level():
    _, procs = facts(
        "TECHNIQUE: Bilateral needles in L2; 4 mL PMMA injected.\nIMPRESSION: L2 vertebroplasty.\n\n"
        'ADDENDUM: "L2" above was a dictation error; please read L3.'
    )
    assert list(procs) == ["L3"]


def test_screws_beside_augmentation_are_not_treated_levels():
    _, procs = facts(
        "PROCEDURE: Pedicle screw fixation L1 to L3; balloon kyphoplasty of L2.\n"
        "TECHNIQUE: Screws were placed in L1 and L3. At L2 the balloons were inflated and 5 mL PMMA injected."
    )
    assert list(procs) == ["L2"]


def test_no_after_a_block_label_still_negates_forward():
    _, procs = facts(
        "TECHNIQUE: T12: balloons inflated and 4 mL PMMA injected.\n"
        "First lumbar vertebra: No augmentation was performed at L1, as planned."
    )
    assert list(procs) == ["T12"]
