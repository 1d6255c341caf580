"""Addendum corrections (extractor/decide/corrections.py)."""

import pytest
from markup import assert_markup


@pytest.mark.parametrize("markup", [
    # the addendum names the old level (renamed everywhere: the old one is no longer named) as wrong and the new one as right
    ("PROCEDURE: Vertebroplasty of L2 with 3 mL PMMA.\n"
     "ADDENDUM: Correction: the treated level was <level cement_volume_ml=3>L3</level>, not L2."),
    # an addendum that speaks of an error, naming one body level and one new level
    ("PROCEDURE: Vertebroplasty of T9 with 2 mL PMMA.\n"
     "ADDENDUM: \"T9\" above was a dictation error; please read <level cement_volume_ml=2>T10</level>."),
    # the corrected level is listed as not treated (reason other), from the addendum's words
    ("PROCEDURE: Vertebroplasty of T7 with 3 mL PMMA.\n"
     "ADDENDUM: Correction: the treated level was <level cement_volume_ml=3>T8</level>, not "
     "<level not_treated=other>T7</level>."),
    # an addendum without a correction changes nothing
    ("PROCEDURE: Vertebroplasty of <level cement_volume_ml=2>T9</level> with 2 mL PMMA.\n"
     "ADDENDUM: the patient was discharged home in good condition."),
])
def test_addendum_corrections(extractor, markup):
    assert_markup(extractor, markup)
