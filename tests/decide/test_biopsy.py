"""Biopsy per level, biopsy-only bodies, an unlevelled biopsy (extractor/decide/biopsy.py)."""

import pytest
from markup import assert_markup


@pytest.mark.parametrize("markup", [
    "Vertebroplasty of <level biopsy=true>L1</level>: a core biopsy was obtained, then 3 mL PMMA was injected.",
    # a body biopsied and not treated
    ("Vertebroplasty of <level biopsy=false>L1</level> with 3 mL PMMA. A bone biopsy of "
     "<level biopsy_only=true>L3</level> was obtained."),
    # a biopsy stated without a level belongs to the only treated level
    "Vertebroplasty of <level biopsy=true>T12</level> with 3 mL PMMA.\nSPECIMENS: bone core biopsy to pathology.",
])
def test_biopsy(extractor, markup):
    assert_markup(extractor, markup)


def test_an_unlevelled_biopsy_with_two_treated_levels_asks_for_review(extractor):
    record = extractor.extract(
        "Vertebroplasty of T11 and T12, PMMA injected at each level.\nSPECIMENS: bone core biopsy.").to_dict()
    assert {p["level"] for p in record["procedures"]} == {"T11", "T12"}
    assert record["review"] is True
    assert any("level it came from is not stated" in w for w in record["warnings"])
