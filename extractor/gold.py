"""Gold annotation files (shared/spec/gold.md) -> NoteFacts, so gold and system go through one mapper.

Pure Python: no spaCy. ``gold_to_facts`` fills ``LevelFacts.guidance`` / ``BiopsyLevel.guidance``,
which the gold format does not always carry, by this rule:

1. an explicit ``"guidance"`` key on a procedure (or on a biopsy-only entry written as
   ``{"level": "T6", "guidance": "ct"}``) always wins;
2. otherwise, when the session's ``imaging`` has one modality, that modality guided everything;
3. when ``imaging`` has both ``"ct"`` and ``"fluoroscopy"``:
   - if there are biopsy-only levels, CT is taken to have guided those biopsies and fluoroscopy the
     treated bodies (the usual "CT-guided biopsy of one lesion, fluoroscopic treatment of another");
   - otherwise CT guided the treated bodies (CT-guided needle placement with fluoroscopic monitoring
     of the cement, which counts as CT for the legacy 72292);
4. with no imaging, guidance stays None.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import fields
from os import PathLike
from typing import Any

from extractor.facts import BiopsyLevel, LevelFacts, NoteFacts, NotTreated

# the per-body attributes a gold procedure may leave out: every LevelFacts field that defaults to None
OPTIONAL_KEYS = tuple(f.name for f in fields(LevelFacts) if f.default is None)


def load_gold(path: str | PathLike) -> dict:
    """Read one NAME.gold.json file (UTF-8)."""
    with open(path, encoding="utf-8") as fh:
        gold = json.load(fh)
    if not isinstance(gold, dict):
        raise TypeError(f"{path}: a gold file holds one JSON object")
    return gold


def default_guidance(imaging: Iterable[str], has_biopsy_only: bool) -> tuple[str | None, str | None]:
    """(guidance of treated bodies, guidance of biopsy-only bodies) when the gold does not say."""
    modalities = set(imaging)
    if len(modalities) == 1:
        (only,) = modalities
        return only, only
    if modalities == {"ct", "fluoroscopy"}:
        return ("fluoroscopy", "ct") if has_biopsy_only else ("ct", "ct")
    return None, None


def gold_to_facts(gold: Mapping[str, Any]) -> NoteFacts:
    """The facts a gold file states, in the NoteFacts contract (evidence left empty)."""
    imaging = list(gold.get("imaging") or [])
    biopsy_entries = [
        {"level": b} if isinstance(b, str) else dict(b) for b in gold.get("biopsy_only_levels") or []
    ]
    treated_default, biopsy_default = default_guidance(imaging, bool(biopsy_entries))
    procedures = []
    for proc in gold.get("procedures") or []:
        values = {k: proc.get(k) for k in OPTIONAL_KEYS}
        if values["guidance"] is None:
            values["guidance"] = treated_default
        procedures.append(
            LevelFacts(level=proc["level"], technique=proc["technique"], biopsy=bool(proc.get("biopsy")), **values)
        )
    return NoteFacts(
        procedures=procedures,
        biopsy_only=[BiopsyLevel(level=b["level"], guidance=b.get("guidance") or biopsy_default)
                     for b in biopsy_entries],
        imaging=imaging,
        not_treated=[NotTreated(level=n["level"], reason=n["reason"]) for n in gold.get("not_treated") or []],
        other_procedures=list(gold.get("other_procedures") or []),
        needle_only=bool(gold.get("needle_only", False)),
    )


def codes_as_pairs(codes: Iterable[Any]) -> list[tuple[str, int]]:
    """Sorted (code, units) pairs from Code objects or gold-style dicts, for comparing code lists."""
    pairs = []
    for c in codes:
        if isinstance(c, Mapping):
            pairs.append((str(c["code"]), int(c["units"])))
        else:
            pairs.append((str(c.code), int(c.units)))
    return sorted(pairs)
