"""Attachment: which level each cue speaks about (extractor/decide/attachment.py)."""

import pytest
from markup import assert_markup

from extractor.decide.attachment import level_groups
from extractor.mentions import Mention, Sentence


@pytest.mark.parametrize("markup", [
    # a cue next to one level attaches to it
    ("Kyphoplasty of <level technique=augmentation approach=bilateral cement=pmma>T12</level> through a "
    "bilateral transpedicular approach; balloons were inflated and PMMA was injected."),
    # per-level blocks: the sentence naming a level sets the subject, later sentences inherit it
    ("T11: A left unipedicular approach was used. 3 mL PMMA was injected.\n\n"
    "T12: A bilateral approach was used. 5 mL PMMA was injected.\n\n"
    "<level approach=unilateral side=left cement_volume_ml=3>T11</level> and "
    "<level approach=bilateral cement_volume_ml=5>T12</level> were treated."),
    # a statement about every level reaches every treated level
    ("Vertebroplasty of <level cement=pmma guidance=fluoroscopy>T11</level> and "
    "<level cement=pmma guidance=fluoroscopy>T12</level>. PMMA was injected at each level under fluoroscopy."),
    # a cue before a group of several levels speaks of all of them
    ("Bilateral kyphoplasty of <level approach=bilateral technique=augmentation>L1</level> and "
    "<level approach=bilateral technique=augmentation>L2</level>; balloons inflated, PMMA injected at both."),
    # the cues of a prior procedure do not attach to this session's level
    ("After prior <level not_treated=historical>T12</level> kyphoplasty in 2019, vertebroplasty of "
    "<level technique=vertebroplasty cement_volume_ml=3>L1</level> was performed with 3 mL PMMA."),
    # two clauses, two levels: each cue goes to the nearer level of its own clause
    ("Vertebroplasty with PMMA: a left unipedicular approach at <level side=left>T9</level>; a bilateral "
    "approach at <level approach=bilateral>T10</level>."),
])
def test_attachment(extractor, markup):
    assert_markup(extractor, markup)


def _level(token, label="LEVEL", levels=("T11",)):
    return Mention(label, token, token + 1, "x", "x", 0, token, token + 1, None, frozenset(), levels)


def test_consecutive_levels_form_one_group_unless_a_cue_or_breaker_separates_them():
    t11, t12, l1 = _level(1, levels=("T11",)), _level(3, levels=("T12",)), _level(6, levels=("L1",))
    cue = Mention("APPROACH_BI", 4, 5, "x", "x", 0, 4, 5, None)
    sentence = Sentence(0, 0, 10, None, 0, 10, [t11, t12, cue, l1])
    groups = level_groups(sentence, [t11, t12, l1], {2: "and"})
    assert [[m.levels[0] for m in g] for g in groups] == [["T11", "T12"], ["L1"]]
    groups = level_groups(sentence, [t11, t12], {2: "with"})
    assert [[m.levels[0] for m in g] for g in groups] == [["T11"], ["T12"]]
