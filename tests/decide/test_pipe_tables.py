"""Pipe tables (extractor/decide/pipe_tables.py)."""

import pytest
from markup import assert_markup

from extractor.decide.pipe_tables import cell_cues, table_cells


def test_table_rows_carry_their_columns(extractor):
    assert_markup(extractor, (
        "PROCEDURE: Vertebroplasty, PMMA.\n"
        "| Level | Side | Biopsy | PMMA |\n"
        "| <level approach=unilateral side=left biopsy=true cement_volume_ml=2.5>T11</level> | left | yes | 2.5 mL |\n"
        "| <level approach=bilateral biopsy=false cement_volume_ml=4>T12</level> | bilateral | no | 4 mL |\n"))


@pytest.mark.xfail(strict=True, reason="known misread (issue 15): a bare number in a 'PMMA (mL)' column becomes a "
                   "volume cue, but the row has no filler word, so the volume is dropped")
def test_a_bare_number_in_a_volume_column_is_the_volume(extractor):
    assert_markup(extractor, (
        "PROCEDURE: Vertebroplasty, PMMA.\n"
        "| Level | Side | PMMA (mL) |\n"
        "| <level cement_volume_ml=2.5>T11</level> | left | 2.5 |\n"))


def test_table_cells_keep_offsets():
    line = "| T11 | left |"
    assert table_cells(line, 10) == [(11, 16, "T11"), (17, 23, "left")]


@pytest.mark.parametrize("column, value, cues", [
    ("biopsy", "yes", [("BIOPSY", frozenset())]),
    ("bx", "none", [("BIOPSY", frozenset({"NEGATED_EXISTENCE"}))]),
    ("side", "bilateral", [("APPROACH_BI", frozenset())]),
    ("access", "left only", [("APPROACH_UNI", frozenset()), ("SIDE", frozenset())]),
    ("level", "yes", []),
])
def test_cell_cues(column, value, cues):
    assert cell_cues(column, value) == cues


def test_a_whitespace_aligned_table_treats_the_rows_with_filler(extractor):
    # phenomenon: a fixed-width table whose volume column says which rows were filled; a zero is no filler
    record = extractor.extract(
        "PROCEDURE: Vertebroplasty, PMMA injected directly through the needles.\n\n"
        "LEVEL   APPROACH               PMMA (mL)   COMMENT\n"
        "T7      left unipedicular      2.0         good fill\n"
        "T8      left transpedicular    0.0         ABORTED - needle could not be advanced\n"
        "T9      bilateral              3.2         1.6 / 1.6\n").to_dict()
    assert [p["level"] for p in record["procedures"]] == ["T7", "T9"]
    assert {n["level"]: n["reason"] for n in record["not_treated"]} == {"T8": "aborted"}


def test_a_sentence_with_wide_spaces_is_not_a_table_header(extractor):
    # phenomenon: an export that separates its sections by double spaces
    record = extractor.extract("TECHNIQUE: prone.  PMMA was injected directly:  T11 3 mL,  T12 2 mL.  No leak.").to_dict()
    assert [p["level"] for p in record["procedures"]] == ["T11", "T12"]
