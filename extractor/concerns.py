"""Concerns: what the decision layer, the code mapper and the review stage want a reader to know.

A concern is data: a stable code, the message shown in `warnings`, and the levels it is about. What a
code does to `review` and `confidence` is decided by one table, extractor/review/routing.json (one
row per code, each with a short 'why'), never by matching the message text. This module sits below
decide/, coding/ and review/ so that all three share one vocabulary without importing each other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from importlib.resources import files


class ConcernCode(str, Enum):
    # the decision layer (extractor/decide/)
    NEEDLES_WITHOUT_FILLER = "needles_without_filler"
    SIDE_NOT_STATED = "side_not_stated"
    FILLER_NOT_NAMED = "filler_not_named"
    LEVEL_ABORTED = "level_aborted"
    BIOPSY_LEVEL_NOT_STATED = "biopsy_level_not_stated"
    TREATED_AND_STOPPED = "treated_and_stopped"
    TITLE_LEVEL_NOT_NARRATED = "title_level_not_narrated"
    DOCUMENT_NOT_IN_SCOPE = "document_not_in_scope"
    NOISY_TEXT = "noisy_text"
    # the code mapper (extractor/coding/rules.py)
    SACRUM_NOT_SACROPLASTY = "sacrum_not_sacroplasty"
    SACROPLASTY_OFF_SACRUM = "sacroplasty_off_sacrum"
    BOTH_TECHNIQUES_ONE_BODY = "both_techniques_one_body"
    LEVEL_LISTED_TWICE = "level_listed_twice"
    BIOPSY_ONLY_LEVEL_TREATED = "biopsy_only_level_treated"
    SACROPLASTY_APPROACH_NOT_STATED = "sacroplasty_approach_not_stated"
    UNLISTED_CODE = "unlisted_code"
    CT_GUIDED_BIOPSY_ONLY = "ct_guided_biopsy_only"
    GUIDANCE_NOT_RECORDED = "guidance_not_recorded"
    BIOPSY_GUIDANCE_NOT_RECORDED = "biopsy_guidance_not_recorded"
    NEEDLE_ONLY_BUT_TREATED = "needle_only_but_treated"
    ABORTED_NOT_COUNTED = "aborted_not_counted"
    PLANNED_NOT_COMPLETED = "planned_not_completed"
    NO_FILLER_NO_CODE = "no_filler_no_code"
    SESSION_CANCELLED = "session_cancelled"
    MANY_BODIES = "many_bodies"
    MUE_EXCEEDED = "mue_exceeded"
    CODE_NOT_VALID_ON_DATE = "code_not_valid_on_date"
    AUTO_WITHOUT_DATE = "auto_without_date"
    OUT_OF_SCOPE = "out_of_scope"
    PCS_BONE_GRAFT = "pcs_bone_graft"
    SEDATION_CONTRADICTION = "sedation_contradiction"
    DEEP_SEDATION_NOT_MODERATE = "deep_sedation_not_moderate"
    SEDATION_LEVEL_NOT_STATED = "sedation_level_not_stated"
    ABLATION_PAIRING_UNCONFIRMED = "ablation_pairing_unconfirmed"
    ABLATION_KIND_NOT_STATED = "ablation_kind_not_stated"
    # the review stage (extractor/review/)
    MAPPER_ASKS_REVIEW = "mapper_asks_review"
    LEVEL_IN_RANGE_ONLY = "level_in_range_only"
    MODEL_DISAGREES = "model_disagrees"
    MODEL_UNAVAILABLE = "model_unavailable"


@dataclass(frozen=True)
class Concern:
    code: ConcernCode
    message: str  # the text of `warnings`; never parsed
    levels: tuple[str, ...] = ()


def add_concern(concerns: list[Concern], concern: Concern) -> None:
    """Append unless a concern with the same message is already there (one warning per message)."""
    if all(c.message != concern.message for c in concerns):
        concerns.append(concern)


def messages(concerns: list[Concern]) -> list[str]:
    return [c.message for c in concerns]


# ------------------------------------------------------------------------------------------------
# the routing table (data: extractor/review/routing.json)

ROUTES = ("review", "advisory", "info")


@dataclass(frozen=True)
class Route:
    route: str  # review: forces review | advisory: lowers the confidence by `weight` | info: nothing
    weight: float = 0.0
    # the route taken instead when the code mapper itself asks for review (CodingResult.review)
    when_mapper_reviews: str | None = None
    why: str = ""


@lru_cache(maxsize=1)
def routing() -> dict[ConcernCode, Route]:
    rows = json.loads((files("extractor") / "review" / "routing.json").read_text(encoding="utf-8"))
    table = {ConcernCode(code): Route(**row) for code, row in rows.items()}
    bad = [c.value for c, r in table.items() if {r.route, r.when_mapper_reviews or r.route} - set(ROUTES)]
    if bad:
        raise ValueError(f"routing.json: unknown route for {bad}; expected one of {ROUTES}")
    return table


def route_of(code: ConcernCode, mapper_reviews: bool = False) -> Route:
    """The row of `code`; with mapper_reviews, its route when the code mapper asks for review."""
    row = routing()[code]
    if mapper_reviews and row.when_mapper_reviews:
        return Route(row.when_mapper_reviews, row.weight, None, row.why)
    return row


def forces_review(code: ConcernCode) -> bool:
    return route_of(code).route == "review"
