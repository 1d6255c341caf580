"""What the code mapper returns: plain dataclasses with ``to_dict()`` for the output contract."""

from __future__ import annotations

from dataclasses import dataclass, field

from extractor.concerns import Concern
from extractor.facts import Evidence, ServiceDate


@dataclass(frozen=True)
class Code:
    """One CPT / Category III code with its units (each code appears once per result)."""

    code: str
    units: int
    system: str
    modifiers: list[str]
    levels: list[str]
    description: str
    rationale: str
    # the words that decided it; written for additional codes (the procedure codes' evidence is per level)
    evidence: tuple[Evidence, ...] = ()

    def to_dict(self, with_evidence: bool = False) -> dict:
        record = {
            "code": self.code,
            "units": self.units,
            "system": self.system,
            "modifiers": list(self.modifiers),
            "levels": list(self.levels),
            "description": self.description,
            "rationale": self.rationale,
        }
        if with_evidence:
            record["evidence"] = [e.to_dict() for e in self.evidence]
        return record


@dataclass(frozen=True)
class PcsCode:
    """One ICD-10-PCS code (inpatient): one per treated body, one per biopsied body."""

    code: str
    level: str
    description: str
    root_operation: str  # Supplement | Excision
    system: str = "ICD-10-PCS"

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "system": self.system,
            "level": self.level,
            "root_operation": self.root_operation,
            "description": self.description,
        }


@dataclass(frozen=True)
class Query:
    """A documentation query a coder would send the physician (coding-rules 0.3)."""

    topic: str
    question: str
    levels: list[str]

    def to_dict(self) -> dict:
        return {"topic": self.topic, "question": self.question, "levels": list(self.levels)}


@dataclass
class CodingResult:
    code_set: str  # the resolved set: current | legacy
    codes: list[Code] = field(default_factory=list)
    pcs_codes: list[PcsCode] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    review: bool = False
    # the date the codes were chosen for and where it came from (caller | note | none)
    date_of_service: ServiceDate = field(default_factory=lambda: ServiceDate(None, "none"))
    # the concerns behind `warnings` (same order): `warnings` holds their messages
    concerns: list[Concern] = field(default_factory=list)
    # other services of the same claim (moderate sedation, tumor ablation: coding-rules 0, 0.1)
    additional_codes: list[Code] = field(default_factory=list)
    queries: list[Query] = field(default_factory=list)  # documentation queries (coding-rules 0.3)
    info: list[str] = field(default_factory=list)  # what a coder should know that changes no code

    def to_dict(self) -> dict:
        return {
            "code_set": self.code_set,
            "date_of_service": self.date_of_service.to_dict(),
            "codes": [c.to_dict() for c in self.codes],
            "additional_codes": [c.to_dict(with_evidence=True) for c in self.additional_codes],
            "queries": [q.to_dict() for q in self.queries],
            "info": list(self.info),
            "pcs_codes": [p.to_dict() for p in self.pcs_codes],
            "warnings": list(self.warnings),
            "review": self.review,
        }
