"""The rest of the claim (coding-rules 0, 0.1, 0.3): services documented beside the procedure codes —
moderate sedation (sedation.py) and tumor ablation — as additional codes, the info lines that change
no code, and the documentation queries a coder would send. Pure Python over the facts; never imports
spaCy. Called by rules.assign_codes once the procedure codes are known.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..concerns import Concern, ConcernCode
from ..facts import NoteFacts, TumorAblation, region_of
from .codebook import load_codebook
from .result import Code, Query
from .sedation import sedation_codes

QUERIES = Path(__file__).with_name("tables") / "queries.json"
ABLATION_CODES = {"radiofrequency": "20982", "cryoablation": "20983"}


@lru_cache(maxsize=1)
def query_table() -> dict[ConcernCode, dict]:
    rows = json.loads(QUERIES.read_text(encoding="utf-8"))["from_concerns"]
    return {ConcernCode(code): row for code, row in rows.items()}


@dataclass
class ClaimExtras:
    codes: list[Code] = field(default_factory=list)
    concerns: list[Concern] = field(default_factory=list)
    queries: list[Query] = field(default_factory=list)
    info: list[str] = field(default_factory=list)


def claim_extras(facts: NoteFacts, procedure_codes: list[Code], code_set: str, day: _dt.date | None,
                 concerns: list[Concern]) -> ClaimExtras:
    """concerns: those of the facts and of the procedure codes (the queries some of them raise)."""
    extras = ClaimExtras()
    levels = [p.level for p in facts.procedures] + facts.biopsy_only_levels
    regions = list(dict.fromkeys(region_of(level) for level in levels))
    sedation = sedation_codes(facts.sedation, code_set, day, bool(procedure_codes), regions)
    extras.codes += sedation.codes
    extras.concerns += sedation.concerns
    extras.queries += sedation.queries
    extras.info += sedation.info
    if facts.ablation is not None and procedure_codes:
        _ablation(facts.ablation, levels, day, extras)
    table = query_table()
    for concern in list(concerns) + extras.concerns:
        row = table.get(concern.code)
        if row and all(q.topic != row["topic"] or q.levels != list(concern.levels) for q in extras.queries):
            extras.queries.append(Query(row["topic"], row["question"], list(concern.levels)))
    return extras


def _ablation(ablation: TumorAblation, levels: list[str], day: _dt.date | None, extras: ClaimExtras) -> None:
    code = ABLATION_CODES.get(ablation.kind)
    if code is None:
        extras.concerns.append(Concern(ConcernCode.ABLATION_KIND_NOT_STATED,
                                       "tumor ablation documented without its energy (radiofrequency or cryo): not coded"))
        return
    info = load_codebook().info(code)
    if day is not None and not info.effective_on(day):
        extras.info.append(f"{code} is not valid for a date of service of {day.isoformat()}: the ablation is not coded")
        return
    extras.codes.append(Code(code, 1, info.system, [], [], info.description,
                             f"{ablation.kind} ablation of a tumor in a body treated or biopsied this session "
                             f"({', '.join(levels)}); one unit per session", tuple(ablation.evidence)))
    extras.concerns.append(Concern(
        ConcernCode.ABLATION_PAIRING_UNCONFIRMED,
        f"{code} reported beside the procedure codes: its NCCI pairing with 22510-22515 is unconfirmed; check the edits",
    ))
