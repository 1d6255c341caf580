"""The contract between the NLP half and the coding half: plain dataclasses, no spaCy types.

Everything the code mapper needs is here, so `extractor.coding` can be used (and tested) on facts
written by hand, by a gold file, or by an ETL job, without spaCy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .concerns import Concern

LEVEL_ORDER: tuple[str, ...] = (
    tuple(f"C{i}" for i in range(1, 8))
    + tuple(f"T{i}" for i in range(1, 13))
    + tuple(f"L{i}" for i in range(1, 6))
    + ("sacrum",)
)
TECHNIQUES = ("vertebroplasty", "augmentation", "sacroplasty")
NOT_TREATED_REASONS = ("historical", "planned", "negated", "aborted", "finding", "other")


def region_of(level: str) -> str:
    """cervical | thoracic | lumbar | sacral for a canonical level name."""
    if level == "sacrum":
        return "sacral"
    return {"C": "cervical", "T": "thoracic", "L": "lumbar"}[level[0]]


def level_index(level: str) -> int:
    """Position in the spine, head to tail, for stable sorting."""
    return LEVEL_ORDER.index(level)


@dataclass(frozen=True)
class Evidence:
    """A span of the input text that supports a fact; text == note[start:end]."""

    start: int
    end: int
    text: str
    label: str
    section: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class LevelFacts:
    """One vertebral body (or the sacrum) treated in this session."""

    level: str
    technique: str
    approach: str | None = None  # unilateral | bilateral | None
    side: str | None = None  # left | right | None
    cavity_device: str | None = None  # balloon | mechanical | None
    cement: str | None = None  # pmma | bone_graft | bone_substitute | None
    cement_volume_ml: float | None = None
    biopsy: bool = False
    guidance: str | None = None  # ct | fluoroscopy | None: the modality that guided this body
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def region(self) -> str:
        return region_of(self.level)


@dataclass
class BiopsyLevel:
    """A body biopsied in this session but not treated."""

    level: str
    guidance: str | None = None
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class NotTreated:
    level: str
    reason: str
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class NoteFacts:
    procedures: list[LevelFacts] = field(default_factory=list)
    biopsy_only: list[BiopsyLevel] = field(default_factory=list)
    imaging: list[str] = field(default_factory=list)  # fluoroscopy | ct, this session only
    not_treated: list[NotTreated] = field(default_factory=list)
    # procedures outside spinecode's scope seen in the note, e.g. "tumor ablation", "moderate sedation"
    other_procedures: list[str] = field(default_factory=list)
    # True when needles/cannulas were placed in this session but no filler went in anywhere
    needle_only: bool = False
    warnings: list[str] = field(default_factory=list)
    # the warnings that should send the note to a coder (a subset of `warnings`)
    review_reasons: list[str] = field(default_factory=list)
    # the concerns behind `warnings` (same order); `warnings` and `review_reasons` are derived from them
    concerns: list[Concern] = field(default_factory=list)

    @property
    def biopsy_only_levels(self) -> list[str]:
        return [b.level for b in self.biopsy_only]
