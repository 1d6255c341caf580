"""Guidance per level (extractor/decide/guidance.py)."""

import pytest
from markup import assert_markup


@pytest.mark.parametrize("markup", [
    "Under fluoroscopic guidance, vertebroplasty of <level guidance=fluoroscopy>T12</level> with 3 mL PMMA.",
    "CT-guided vertebroplasty of <level guidance=ct>C2</level>; 1.5 mL PMMA was injected.",
    # CT-guided needle placement is CT even when the cement was watched under fluoroscopy
    ("Vertebroplasty of <level guidance=ct>L1</level>: the needle was placed under CT guidance and 3 mL "
    "PMMA was injected under fluoroscopy."),
    # a session modality reaches a level that names none
    "Fluoroscopy was used throughout.\nVertebroplasty of <level guidance=fluoroscopy>L4</level>, 3 mL PMMA.",
])
def test_guidance(extractor, markup):
    assert_markup(extractor, markup)
