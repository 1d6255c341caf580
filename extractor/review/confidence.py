"""`confidence` and `review`: the rules' own concerns combined with the trained model's second opinion.

The promise behind review=false is "these codes are exactly right". It is given only when
1. no rule-level concern that questions the codes is raised (those force review), and
2. the combined confidence reaches the review threshold chosen on the train split (training.py).

How the confidence is built (all numbers are constants below, or come from the model's sidecar):

* Every decision the codes rest on is one factor: "anything performed", "level X treated / not
  treated" for each level the note names or the rules treat, "technique T" for each technique the
  rules use, and "X biopsied" for each level named but not treated (a biopsy-only level is coded).
* Each factor starts from a prior belief that the rules got that decision right (PRIOR_ODDS), lowered
  by rule signals about that decision (an aborted level, a level treated only through a range).
* The model's probability for the rules' answer, against its base rate on the train split, moves that
  belief up or down (a likelihood ratio: the model adds only what it knows beyond the base rate).
* confidence = product of the decision factors x product of (1 - weight) of note-level concerns.
* A decision where the model prefers another answer and its evidence cuts the rules' odds four-fold or
  more is a disagreement: reported in `warnings`, and the note goes to review.

Without the model (file absent or refused) the record still gets facts and codes, a rule-only
confidence and the warning; review is then always true, since the model's agreement is part of
the promise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..coding import CodingResult
from ..concerns import Concern, ConcernCode, add_concern, messages, route_of
from ..facts import LEVEL_ORDER, NoteFacts
from .runtime import get_model

PRIOR_ACCURACY = 0.95  # belief that one rule decision is right before any signal; not fit to any split
PRIOR_ODDS = PRIOR_ACCURACY / (1 - PRIOR_ACCURACY)
ABORTED_ODDS = 0.25  # "not treated" decided from an abort: a level aborted on one side may still be filled
RANGE_ONLY_ODDS = 0.25  # a level treated only because a range names it, never named alone
LR_CLIP = (1 / 50, 50)  # a single model probability never moves the odds by more than this
DISAGREE_LR = 0.25  # the model prefers another answer and its evidence cuts the rules' odds 4-fold or more:
# a disagreement, reported in `warnings`; it sends the note to review whatever the confidence
FORCED_CAP = 0.5  # confidence of a note with a concern that forces review is at most this
RULE_ONLY_CAP = 0.75  # confidence without the model is at most this (review is always true then)
DEFAULT_THRESHOLD = 0.8  # used only when the model's sidecar carries no threshold
# concerns of the facts that lower the belief in one level's decision, as odds (not a note-level weight)
LEVEL_SIGNALS = {ConcernCode.LEVEL_IN_RANGE_ONLY: RANGE_ONLY_ODDS}

# What each concern does (forces review, lowers the confidence by a weight, nothing) is the routing
# table, extractor/review/routing.json, looked up by concern code (extractor/concerns.py).


@dataclass
class Assessment:
    confidence: float
    review: bool
    warnings: list[str]  # the messages of `concerns`
    forced: list[Concern] = field(default_factory=list)  # concerns that force review
    factors: dict[str, float] = field(default_factory=dict)  # decision -> probability the rules are right
    disagreements: list[Concern] = field(default_factory=list)
    concerns: list[Concern] = field(default_factory=list)  # every concern shown, in `warnings` order


def score(facts: NoteFacts, coding: CodingResult, text: str | None = None,
          normalized: str | None = None) -> tuple[float, bool, list[str]]:
    """(confidence, review, warnings) for one note; `text` (the note as given) enables the model;
    `normalized` (`text.normalize(text)`, when the caller has it) spares the model normalising it again."""
    model, problem = get_model()
    if model is not None and text is None:
        model, problem = None, "note text not given to score(); rule-based confidence only"
    view = model.view(text, normalized) if model is not None and text is not None else None
    meta = model.meta if model is not None else {}
    a = assess(facts, coding, view, meta, problem)
    return a.confidence, a.review, a.warnings


def assess(facts: NoteFacts, coding: CodingResult, view, meta: dict, model_problem: str | None = None) -> Assessment:
    """The combination itself, from the facts, the codes and the model's view (None: rule-only); also used at
    training time with out-of-fold model views. It never reads the note text."""
    shown: list[Concern] = []
    # the per-level signals of the facts are shown after the code mapper's concerns
    signals = [c for c in facts.concerns if c.code in LEVEL_SIGNALS]
    for c in [c for c in facts.concerns if c.code not in LEVEL_SIGNALS] + coding.concerns + signals:
        add_concern(shown, c)
    note_weights: list[float] = []
    forced = _fact_concerns(facts, note_weights)
    if facts.needle_only and not forced:  # facts written by hand or by a gold file
        forced.append(Concern(ConcernCode.NEEDLES_WITHOUT_FILLER, "needles were placed but no filler was delivered"))
    forced += _coding_concerns(coding, note_weights)
    odds_adjust = _level_signals(facts)

    factors: dict[str, float] = {}
    disagreements: list[Concern] = []
    if view is not None:
        factors, disagreements = _model_factors(facts, view, meta, odds_adjust)
    else:
        prior_odds = _odds(float(meta.get("prior_accuracy", PRIOR_ACCURACY)))
        for level, adj in odds_adjust.items():  # rule-only: the signals still lower the belief
            factors[f"level {level}"] = _prob(prior_odds * adj)
    confidence = 0.99
    for p in factors.values():
        confidence *= p
    for w in note_weights:
        confidence *= 1 - w
    for c in disagreements:
        add_concern(shown, c)
    if forced:
        confidence = min(confidence, FORCED_CAP)
    threshold = float(meta.get("review_threshold", DEFAULT_THRESHOLD))
    if view is None:
        confidence = min(confidence, RULE_ONLY_CAP)
        if model_problem:
            shown.append(Concern(ConcernCode.MODEL_UNAVAILABLE, model_problem))
    confidence = round(min(0.99, max(0.01, confidence)), 3)
    review = bool(forced) or bool(disagreements) or view is None or confidence < threshold
    for c in forced:
        add_concern(shown, c)
    return Assessment(confidence, review, messages(shown), forced, factors, disagreements, shown)


# ------------------------------------------------------------------------------------------------
# rule-level signals


def _coding_concerns(coding: CodingResult, note_weights: list[float]) -> list[Concern]:
    """The code mapper's concerns routed by code: advisories lower the confidence, review ones force review."""
    forced = []
    for c in coding.concerns:
        row = route_of(c.code, mapper_reviews=coding.review)
        if row.route == "advisory":
            note_weights.append(row.weight)
        elif row.route == "review":
            forced.append(c)
    if coding.review and not forced and not any(
        route_of(c.code, mapper_reviews=True).route == "advisory" for c in coding.concerns
    ):
        forced.append(Concern(ConcernCode.MAPPER_ASKS_REVIEW, "the code mapper asks for review"))
    return forced


def _fact_concerns(facts: NoteFacts, note_weights: list[float]) -> list[Concern]:
    """The decision layer's concerns routed by code: the ones that force review; advisories add weights."""
    forced = []
    for c in facts.concerns:
        row = route_of(c.code)
        if row.route == "advisory":
            note_weights.append(row.weight)
        elif row.route == "review":
            forced.append(c)
    return forced


def _level_signals(facts: NoteFacts) -> dict[str, float]:
    """Per-level odds multipliers from rule signals: an aborted level, a level treated only through a range."""
    adjust: dict[str, float] = {}
    for nt in facts.not_treated:
        if nt.reason == "aborted" and not nt.stated:  # a stated "no cement at T9" leaves no side to fill it
            adjust[nt.level] = adjust.get(nt.level, 1.0) * ABORTED_ODDS
    for c in facts.concerns:
        for level in c.levels:
            if c.code in LEVEL_SIGNALS:
                adjust[level] = adjust.get(level, 1.0) * LEVEL_SIGNALS[c.code]
    return adjust


# ------------------------------------------------------------------------------------------------
# the model's factors


def _odds(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return p / (1 - p)


def _prob(odds: float) -> float:
    return odds / (1 + odds)


def _factor(q: float, base: float, adjust: float, prior_odds: float, weight: float) -> float:
    lr = min(max((_odds(q) / _odds(base)) ** weight, LR_CLIP[0]), LR_CLIP[1])
    return _prob(prior_odds * adjust * lr)


def _model_factors(facts: NoteFacts, view, meta: dict, adjust: dict[str, float]):
    prior_odds = _odds(float(meta.get("prior_accuracy", PRIOR_ACCURACY)))
    weight = float(meta.get("model_weight", 1.0))
    base = meta.get("base_rates", {})
    factors: dict[str, float] = {}
    disagreements: list[Concern] = []

    def decide(name: str, q: float, base_rate: float, adj: float, other_best: bool, message: str,
               levels: tuple[str, ...] = ()) -> None:
        """q: model probability of the rules' answer; other_best: the model prefers another answer."""
        factors[name] = _factor(q, base_rate, adj, prior_odds, weight)
        if other_best and _odds(q) / _odds(base_rate) < DISAGREE_LR:
            disagreements.append(Concern(ConcernCode.MODEL_DISAGREES, message, levels))

    treated = {p.level: p.technique for p in facts.procedures}
    performed = bool(treated)
    b_perf = float(base.get("performed", 0.5))
    q = view.p_performed if performed else 1 - view.p_performed
    decide("performed", q, b_perf if performed else 1 - b_perf, 1.0, q < 0.5,
           f"model disagrees on whether anything was treated (rules: {'yes' if performed else 'no'}; "
           f"model: {'no' if performed else 'yes'}, p={1 - q:.2f})")

    b_level = float(base.get("level", 0.5))
    stated = {nt.level for nt in facts.not_treated if nt.stated}
    for level in sorted(set(view.p_level) | set(treated), key=_level_key):
        adj = adjust.get(level, 1.0)
        # the model's level finder did not see it, or the rules read a statement the model cannot (an
        # addendum's correction, a stop with the filler denied): no opinion
        if level not in view.p_level or level in stated:
            factors[f"level {level}"] = _prob(prior_odds * adj)
            continue
        is_treated = level in treated
        q = view.p_level[level] if is_treated else 1 - view.p_level[level]
        decide(f"level {level}", q, b_level if is_treated else 1 - b_level, adj, q < 0.5,
               f"model disagrees on {level} (rules: {'treated' if is_treated else 'not treated'}; "
               f"model: {'not treated' if is_treated else 'treated'}, p={1 - q:.2f})", (level,))

    b_biopsy = float(base.get("biopsy", 0.5))
    biopsy_only = set(facts.biopsy_only_levels)
    for level in sorted(set(view.p_biopsy) - set(treated), key=_level_key):
        is_biopsied = level in biopsy_only
        q = view.p_biopsy[level] if is_biopsied else 1 - view.p_biopsy[level]
        decide(f"biopsy {level}", q, b_biopsy if is_biopsied else 1 - b_biopsy, 1.0, q < 0.5,
               f"model disagrees on a biopsy of {level} (rules: {'biopsy' if is_biopsied else 'no biopsy'}; "
               f"model: {'no biopsy' if is_biopsied else 'biopsy'}, p={1 - q:.2f})", (level,))

    # one factor per technique the rules use: the technique head reads mostly note-wide cues, so the
    # levels of one technique are one piece of evidence, not several (the weakest level counts). The
    # sacrum is always coded as sacroplasty, whatever its technique: not a decision to check.
    b_tech = {k: float(v) for k, v in base.get("technique", {}).items()}
    by_technique: dict[str, list[str]] = {}
    for level, technique in treated.items():
        probs = view.p_technique.get(level)
        if level != "sacrum" and probs and technique in probs:
            by_technique.setdefault(technique, []).append(level)
    for technique, levels_of in sorted(by_technique.items()):
        level = min(levels_of, key=lambda lv: view.p_technique[lv][technique])
        probs = view.p_technique[level]
        best = max(probs, key=probs.get)
        decide(f"technique {technique}", probs[technique], b_tech.get(technique, 1 / 3), 1.0, best != technique,
               f"model disagrees on the technique of {level} (rules: {technique}; model: {best}, "
               f"p={probs[best]:.2f})", (level,))
    return factors, disagreements


def _level_key(level: str) -> int:
    return LEVEL_ORDER.index(level) if level in LEVEL_ORDER else len(LEVEL_ORDER)
