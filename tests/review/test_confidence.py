"""The confidence/review combination (extractor/review/confidence.py) on hand-written facts and model views."""

from __future__ import annotations

import pytest
from review_helpers import META, VP_TEXT, _agreeing_view, _vp_facts, synthetic_note

from extractor.coding import assign_codes
from extractor.concerns import Concern, ConcernCode
from extractor.facts import LevelFacts, NoteFacts, NotTreated
from extractor.review import runtime
from extractor.review.confidence import assess


@pytest.mark.parametrize("variant", ["clean", "aborted", "no_cement", "no_side", "sedation", "none", "five"])
def test_confidence_is_between_0_and_1(tiny_model, variant):
    model = runtime.load_model(tiny_model)
    facts = _vp_facts()
    if variant == "aborted":
        facts.not_treated.append(NotTreated("T8", "aborted"))
    elif variant == "no_cement":
        facts.procedures[0].cement = None
    elif variant == "no_side":
        facts.procedures[0].side = None
    elif variant == "sedation":
        facts.other_procedures = ["moderate sedation"]
    elif variant == "none":
        facts.procedures = []
    elif variant == "five":
        facts.procedures = [LevelFacts(lv, "augmentation", cement="pmma") for lv in ("T8", "T9", "T10", "T11", "T12")]
    for text in (VP_TEXT, synthetic_note(1)[0], synthetic_note(4)[0], None):
        view = model.view(text) if text else None
        a = assess(facts, assign_codes(facts), view, model.meta)
        assert 0.0 <= a.confidence <= 1.0
        assert isinstance(a.review, bool)


def test_review_whenever_facts_carry_a_concern_routed_to_review():
    facts = _vp_facts()
    facts.concerns = [Concern(ConcernCode.TREATED_AND_STOPPED, "T7: described as treated and also as negated",
                              ("T7",))]  # raised by extractor.decide.treated
    a = assess(facts, assign_codes(facts), _agreeing_view(facts), META)
    assert a.review is True and a.forced == facts.concerns
    assert "T7: described as treated and also as negated" in a.warnings


def test_the_message_does_not_route_only_the_code_does():
    facts = _vp_facts()
    facts.concerns = [Concern(ConcernCode.SIDE_NOT_STATED, "T7: described as treated and also as negated")]
    a = assess(facts, assign_codes(facts), _agreeing_view(facts), META)
    assert not a.forced and a.review is False


def test_needles_without_filler_force_review():
    facts = NoteFacts(not_treated=[NotTreated("T7", "aborted")], needle_only=True)
    a = assess(facts, assign_codes(facts), _agreeing_view(facts), META)
    assert a.review is True


def test_agreement_without_concerns_automates_and_disagreement_routes_to_review():
    facts = _vp_facts()
    agree = _agreeing_view(facts)
    a = assess(facts, assign_codes(facts), agree, META)
    assert a.review is False and a.confidence >= META["review_threshold"]

    disagree = _agreeing_view(facts)
    disagree.p_technique["T7"] = {"vertebroplasty": 0.02, "augmentation": 0.97, "sacroplasty": 0.01}
    b = assess(facts, assign_codes(facts), disagree, META)
    assert b.review is True and b.confidence < a.confidence
    assert any("model disagrees on the technique of T7" in w for w in b.warnings)

    missed = _agreeing_view(facts)
    missed.p_level["L2"] = 0.99  # the model reads L2 as treated now; the rules say historical
    c = assess(facts, assign_codes(facts), missed, META)
    assert c.review is True and any("model disagrees on L2" in w for w in c.warnings)


def test_out_of_scope_procedure_routes_to_review():
    # coding-rules.md part 0: ablation, fusion, sedation are not coded by spinecode; a coder adds them
    facts = _vp_facts(other_procedures=["moderate sedation"])
    coding = assign_codes(facts)
    assert coding.review
    a = assess(facts, coding, _agreeing_view(facts), META)
    assert a.review is True and a.forced
    assert any(w.startswith("out of scope, not coded: moderate sedation") for w in a.warnings)


def test_unknown_code_mapper_review_reason_forces_review():
    facts = _vp_facts()
    coding = assign_codes(facts)
    coding.review = True  # the mapper asks for review without a concern routed to review
    a = assess(facts, coding, _agreeing_view(facts), META)
    assert a.review is True and [c.code for c in a.forced] == [ConcernCode.MAPPER_ASKS_REVIEW]


def test_aborted_level_and_range_only_level_lower_the_confidence():
    facts = _vp_facts()
    base = assess(facts, assign_codes(facts), _agreeing_view(facts), META).confidence
    aborted = _vp_facts()
    aborted.not_treated.append(NotTreated("T8", "aborted"))
    view = _agreeing_view(aborted)
    assert assess(aborted, assign_codes(aborted), view, META).confidence < base

    ranged = NoteFacts(procedures=[LevelFacts(lv, "augmentation", cement="pmma") for lv in ("T11", "T12", "L1")])
    message = "T12: treated only through the range T11-L1; not named on its own in the note"
    ranged.concerns = [Concern(ConcernCode.LEVEL_IN_RANGE_ONLY, message, ("T12",))]  # raised by decide/assemble
    a = assess(ranged, assign_codes(ranged), _agreeing_view(ranged), META)
    assert message in a.warnings and not a.forced
    assert a.factors["level T12"] < a.factors["level T11"]


def test_level_signals_are_shown_after_the_code_mappers_concerns():
    facts = NoteFacts(procedures=[LevelFacts(lv, "augmentation", cement="pmma") for lv in ("T9", "T10", "T11", "T12")])
    facts.concerns = [Concern(ConcernCode.LEVEL_IN_RANGE_ONLY, "T10: range only", ("T10",)),
                      Concern(ConcernCode.TREATED_AND_STOPPED, "T9: stopped", ("T9",))]
    coding = assign_codes(facts)
    a = assess(facts, coding, _agreeing_view(facts), META)
    assert a.warnings[:3] == ["T9: stopped", coding.warnings[0], "T10: range only"]


def test_a_stated_not_treated_level_is_not_overruled_by_the_model():
    # an addendum's correction or "removed without cement injection" is read by the rules, not by the
    # model's features: the model's contrary opinion on that level neither lowers nor routes
    def facts_with(stated: bool) -> NoteFacts:
        facts = _vp_facts()
        facts.not_treated.append(NotTreated("T9", "aborted", stated=stated))
        return facts

    for stated, review in ((True, False), (False, True)):
        facts = facts_with(stated)
        view = _agreeing_view(facts)
        view.p_level["T9"] = 0.95  # the model reads T9 as treated
        a = assess(facts, assign_codes(facts), view, META)
        assert a.review is review
        assert any("model disagrees on T9" in w for w in a.warnings) is not stated
    # without the model, only the rules' own signals weigh the decision
    plain, firm = (assess(f, assign_codes(f), None, META).factors for f in (facts_with(False), facts_with(True)))
    assert plain["level T9"] < 0.9 and "level T9" not in firm  # a denied filler leaves no side that may have filled it
