"""Moderate sedation → additional codes (99151 / 99152, + 99153), by the rows of tables/sedation.json.

The rows are coding-rules.md 0.1, S0-S9, as data; this module defines each named condition in one
line and the unit formula. Only the current code set from 2017 reports sedation, and only on a claim
that reports a procedure of the session (`has_procedure`). Never imports spaCy.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..concerns import Concern, ConcernCode, forces_review, messages
from ..facts import SedationFacts
from .codebook import load_codebook
from .result import Code, Query

TABLE = Path(__file__).with_name("tables") / "sedation.json"
CODES = {c.value for c in ConcernCode}


@lru_cache(maxsize=1)
def sedation_table() -> dict:
    table = json.loads(TABLE.read_text(encoding="utf-8"))
    unknown = [row["id"] for row in table["rows"] if row["when"] not in CONDITIONS]
    if unknown:
        raise ValueError(f"tables/sedation.json: rows with unknown conditions or concern codes {unknown}")
    return table


@dataclass
class SedationOutcome:
    rule: str | None = None  # the row that decided, e.g. "S8"
    codes: list[Code] = field(default_factory=list)
    info: list[str] = field(default_factory=list)
    concerns: list[Concern] = field(default_factory=list)  # a warning row's concern (its code in the table)
    queries: list[Query] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        return messages(self.concerns)

    @property
    def review(self) -> bool:
        # routed like every concern, by extractor/review/routing.json
        return any(forces_review(c.code) for c in self.concerns)


def add_on_units(minutes: int) -> int:
    """+99153 units for `minutes` of intraservice time: floor((T - 8) / 15) from 23 minutes on."""
    units = sedation_table()["units"]
    return max(0, (minutes - units["add_on_offset_minutes"]) // units["add_on_block_minutes"])


def _moderate_by_proceduralist(s: SedationFacts) -> bool:
    return s.level == "moderate" and s.given_by == "proceduralist"


@dataclass(frozen=True)
class _Case:
    sedation: SedationFacts
    code_set: str
    day: _dt.date | None


CONDITIONS: dict[str, Callable[[_Case], bool]] = {
    "legacy_or_before_2017": lambda c: c.code_set == "legacy"
    or (c.day is not None and c.day < _dt.date.fromisoformat(sedation_table()["reportable_from"])),
    "contradiction": lambda c: bool(c.sedation.conflicts),
    "anesthesia_provider": lambda c: c.sedation.given_by == "anesthesia",
    "local_or_minimal": lambda c: c.sedation.level in ("none", "local", "minimal"),
    "deep_by_proceduralist": lambda c: c.sedation.level == "deep",
    "moderate_by_other_provider": lambda c: c.sedation.level == "moderate" and c.sedation.given_by == "other_provider",
    "moderate_without_observer": lambda c: _moderate_by_proceduralist(c.sedation) and not c.sedation.observer,
    "moderate_without_time": lambda c: _moderate_by_proceduralist(c.sedation) and c.sedation.minutes is None,
    # the answer decides the codes: everything else 99152 needs is documented (a query and a review)
    "sedative_without_level_otherwise_codable": lambda c: c.sedation.level is None and c.sedation.sedative_given
    and c.sedation.given_by in (None, "proceduralist") and c.sedation.observer and c.sedation.minutes is not None
    and c.sedation.minutes >= sedation_table()["units"]["minimum_minutes"],
    "sedative_without_level": lambda c: c.sedation.level is None and c.sedation.sedative_given,
    "moderate_under_minimum": lambda c: _moderate_by_proceduralist(c.sedation)
    and c.sedation.minutes < sedation_table()["units"]["minimum_minutes"],
    "moderate_codable": lambda c: _moderate_by_proceduralist(c.sedation),
}


def sedation_codes(
    sedation: SedationFacts, code_set: str, day: _dt.date | None, has_procedure: bool, regions: list[str]
) -> SedationOutcome:
    """regions: of the session's treated or biopsied bodies, head to tail (for the anesthesia code)."""
    if not has_procedure or not sedation.documented:
        return SedationOutcome()
    table = sedation_table()
    case = _Case(sedation, code_set, day)
    for row in table["rows"]:
        if not CONDITIONS[row["when"]](case):
            continue
        outcome = SedationOutcome(rule=row["id"])
        anesthesia = sorted({table["anesthesia_codes"][r] for r in regions}) or ["01941/01942"]
        message = row["message"].format(
            level=sedation.level or "level not stated", minutes=sedation.minutes,
            conflicts="; ".join(sedation.conflicts), anesthesia_code="/".join(anesthesia),
        )
        if row["outcome"] == "info":
            outcome.info.append(f"{row['id']}: {message}")
        elif row["outcome"] == "warning":
            outcome.concerns.append(Concern(ConcernCode(row["concern"]), f"{row['id']}: {message}"))
        elif row["outcome"] == "query":
            outcome.queries.append(Query(row["topic"], message, []))
            if "concern" in row:  # the codes depend on the answer (coding-rules 0.3): a coder looks
                outcome.concerns.append(Concern(ConcernCode(row["concern"]), f"{row['id']}: {message}"))
        elif row["outcome"] == "codes":
            outcome.codes = _codes(sedation, row["id"])
        return outcome
    return SedationOutcome()


def _codes(sedation: SedationFacts, rule: str) -> list[Code]:
    table, book = sedation_table(), load_codebook()
    minutes = sedation.minutes
    child = sedation.age_years is not None and sedation.age_years < table["units"]["child_under_years"]
    first = table["codes"]["first_child" if child else "first"]
    source = "from the sedation start and stop times" if sedation.minutes_source == "clock" else "as stated"
    why = (f"moderate sedation by the proceduralist, {minutes} minutes intraservice time ({source}), "
           f"independent trained observer documented (rule {rule})")
    evidence = tuple(sedation.evidence)
    codes = [Code(first, 1, "CPT", [], [], book.info(first).description,
                  why + (f"; patient aged {sedation.age_years}: the under-5 code" if child else ""), evidence)]
    extra = add_on_units(minutes)
    if extra:
        add_on = table["codes"]["add_on"]
        codes.append(Code(add_on, extra, "CPT", [], [], book.info(add_on).description,
                          f"{minutes} minutes: floor(({minutes} - 8) / 15) = {extra} further 15-minute units; "
                          "Medicare does not pay 99153 on the physician's claim in a facility setting", evidence))
    return codes
