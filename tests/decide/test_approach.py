"""Approach and side (extractor/decide/approach.py)."""

import pytest
from markup import assert_markup

from extractor.decide.approach import side_value
from extractor.mentions import Mention


@pytest.mark.parametrize("markup", [
    "Vertebroplasty of <level approach=bilateral side=none>L1</level> via a bipedicular approach, 4 mL PMMA.",
    ("Vertebroplasty of <level approach=unilateral side=right>T11</level> via a right unipedicular "
    "approach, 3 mL PMMA."),
    # two sides of access make a bilateral approach
    pytest.param(
        "Vertebroplasty of <level approach=bilateral>L2</level>: needles were placed through the left and right "
        "pedicles and 4 mL PMMA was injected.",
        marks=pytest.mark.xfail(strict=True, reason="known misread (issue 15): 'the left and right pedicles' is read as one side")),
    # one side of access named alone: unilateral from that side
    ("Vertebroplasty of <level approach=unilateral side=left>T7</level>; the needle was advanced through the "
    "left pedicle and 2 mL PMMA was injected."),
    # unilateral without a side: the side stays unknown
    "Vertebroplasty of <level approach=unilateral side=none>L4</level> by a unilateral approach, 3 mL PMMA.",
    # nothing said about the approach
    "Vertebroplasty of <level approach=none>L5</level> with 3 mL PMMA.",
])
def test_approach_and_side(extractor, markup):
    assert_markup(extractor, markup)


@pytest.mark.parametrize("text, side", [
    ("left pedicle", "left"), ("Rt side", "right"), ("left and right", None), ("the pedicle", None),
])
def test_side_value(text, side):
    assert side_value(Mention("SIDE", 0, len(text), text, "x", 0, 0, 1, None)) == side
