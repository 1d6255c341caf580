"""Confidence and review routing from rule-level signals (and, when present, the trained model)."""

from __future__ import annotations

from .coding import CodingResult
from .facts import NoteFacts

BASE = 0.97
PER_REVIEW_CONCERN = 0.25
PER_MINOR_CONCERN = 0.03
REVIEW_BELOW = 0.8


def score(facts: NoteFacts, coding: CodingResult) -> tuple[float, bool, list[str]]:
    """(confidence, review, warnings): every concern is a warning; serious ones route to review."""
    review_reasons = list(getattr(facts, "review_reasons", []))
    warnings = list(dict.fromkeys(list(facts.warnings) + list(coding.warnings)))
    minor = len(warnings) - len(review_reasons)
    confidence = BASE - PER_REVIEW_CONCERN * len(review_reasons) - PER_MINOR_CONCERN * max(minor, 0)
    if coding.review:
        confidence = min(confidence, REVIEW_BELOW - 0.05)
    confidence = round(min(0.99, max(0.05, confidence)), 2)
    review = bool(review_reasons) or coding.review or confidence < REVIEW_BELOW
    return confidence, review, warnings
