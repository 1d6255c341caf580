"""The code tables in ``tables/*.json``, read once and checked.

The JSON files are the reviewable source of truth (a coding lead can read and edit them without
Python); this module only loads them, checks that they are consistent, and serves them read-only.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

TABLES_DIR = Path(__file__).with_name("tables")
ROLES = ("primary", "add-on", "unlisted", "biopsy", "imaging", "additional")  # additional: other services of the claim
REGIONS = ("cervical", "thoracic", "lumbar", "sacral")
CODE_SETS = ("current", "legacy")


@dataclass(frozen=True)
class CodeInfo:
    """One row of tables/cpt_codes.json."""

    code: str
    system: str
    family: str
    role: str
    regions: tuple[str, ...]
    description: str
    effective_from: _dt.date | None
    effective_to: _dt.date | None
    mue: int | None
    mue_confidence: str | None
    emitted: bool

    def effective_on(self, day: _dt.date) -> bool:
        if self.effective_from is not None and day < self.effective_from:
            return False
        return self.effective_to is None or day <= self.effective_to


@dataclass(frozen=True)
class Codebook:
    codes: Mapping[str, CodeInfo]
    code_sets: Mapping[str, Mapping[str, Any]]
    family_order: tuple[str, ...]
    legacy_before: _dt.date
    bodies_review_above: int
    bodies_review_reason: str
    pcs: Mapping[str, Any]

    def info(self, code: str) -> CodeInfo:
        return self.codes[code]

    def rules(self, code_set: str) -> Mapping[str, Any]:
        return self.code_sets[code_set]

    def family_rank(self, family: str) -> int:
        return self.family_order.index(family)


def _date(value: str | None) -> _dt.date | None:
    return None if value is None else _dt.date.fromisoformat(value)


def _read(name: str) -> dict:
    with open(TABLES_DIR / name, encoding="utf-8") as fh:
        return json.load(fh)


def _freeze(obj: Any) -> Any:
    if isinstance(obj, dict):
        return MappingProxyType({k: _freeze(v) for k, v in obj.items()})
    if isinstance(obj, list):
        return tuple(_freeze(v) for v in obj)
    return obj


def _check(book: Codebook) -> None:
    """Fail loudly at load time when the tables contradict themselves."""
    problems: list[str] = []
    for info in book.codes.values():
        if info.role not in ROLES:
            problems.append(f"{info.code}: unknown role {info.role!r}")
        if info.family not in book.family_order:
            problems.append(f"{info.code}: family {info.family!r} missing from family_order")
        if any(r not in REGIONS for r in info.regions):
            problems.append(f"{info.code}: unknown region in {info.regions}")
    if set(book.code_sets) != set(CODE_SETS):
        problems.append(f"code_sets must be exactly {CODE_SETS}")

    def known(code: str, where: str, role: str | None = None) -> None:
        if code not in book.codes:
            problems.append(f"{where}: {code} is not in cpt_codes.json")
        elif role and book.codes[code].role != role:
            problems.append(f"{where}: {code} has role {book.codes[code].role}, expected {role}")

    for name, cs in book.code_sets.items():
        for family in ("vertebroplasty", "augmentation"):
            fam = cs[family]
            covered = set(fam["unlisted_regions"])
            for entry in fam["primary"]:
                known(entry["code"], f"{name}.{family}.primary", "primary")
                covered.update(entry["regions"])
            known(fam["add_on"], f"{name}.{family}.add_on", "add-on")
            missing = {"cervical", "thoracic", "lumbar"} - covered
            if missing:
                problems.append(f"{name}.{family}: no code for regions {sorted(missing)}")
        known(cs["unlisted"], f"{name}.unlisted", "unlisted")
        for key, code in cs["sacroplasty"].items():
            known(code, f"{name}.sacroplasty.{key}", "primary")
        known(cs["biopsy"]["code"], f"{name}.biopsy", "biopsy")
        for key, code in cs["biopsy_only_imaging"].items():
            known(code, f"{name}.biopsy_only_imaging.{key}", "imaging")
        for key, code in (cs["treated_body_imaging"] or {}).items():
            known(code, f"{name}.treated_body_imaging.{key}", "imaging")
    for part in ("supplement", "diagnostic_excision"):
        if set(book.pcs[part]) != set(REGIONS):
            problems.append(f"pcs_codes.json {part}: needs exactly the regions {REGIONS}")
    if problems:
        raise ValueError("inconsistent coding tables:\n  " + "\n  ".join(problems))


@lru_cache(maxsize=1)
def load_codebook() -> Codebook:
    """Read and check the tables; cached, so the files are read once per process."""
    cpt = _read("cpt_codes.json")
    sets = _read("code_sets.json")
    pcs = _read("pcs_codes.json")
    codes: dict[str, CodeInfo] = {}
    for row in cpt["codes"]:
        if row["code"] in codes:
            raise ValueError(f"cpt_codes.json lists {row['code']} twice")
        codes[row["code"]] = CodeInfo(
            code=row["code"],
            system=row["system"],
            family=row["family"],
            role=row["role"],
            regions=tuple(row["regions"]),
            description=row["description"],
            effective_from=_date(row["effective_from"]),
            effective_to=_date(row["effective_to"]),
            mue=row["mue"],
            mue_confidence=row["mue_confidence"],
            emitted=row["emitted"],
        )
    book = Codebook(
        codes=MappingProxyType(codes),
        code_sets=_freeze(sets["code_sets"]),
        family_order=tuple(sets["family_order"]),
        legacy_before=_dt.date.fromisoformat(sets["auto"]["legacy_before"]),
        bodies_review_above=int(sets["limits"]["bodies_review_above"]),
        bodies_review_reason=sets["limits"]["bodies_review_reason"],
        pcs=_freeze({k: v for k, v in pcs.items() if not k.startswith("_")}),
    )
    _check(book)
    return book
