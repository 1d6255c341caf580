"""The contract between the NLP half and the coding half: plain dataclasses, no spaCy types.

Everything the code mapper needs is here, so `extractor.coding` can be used (and tested) on facts
written by hand, by a gold file, or by an ETL job, without spaCy.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

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


# The dataclasses below are the one field list of a record (docs/output-contract.md): `to_dict` writes
# their fields in order, except those marked OFF_RECORD (working state of the decision and review layers).
OFF_RECORD = {"record": False}


def in_record(f) -> bool:
    """Whether a dataclass field is written to the record."""
    return f.metadata.get("record", True)


def _plain(value):
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.to_dict() if hasattr(value, "to_dict") else value


def record_fields(obj) -> dict:
    """The record fields of a facts dataclass, in field order, as JSON-ready values."""
    return {f.name: _plain(getattr(obj, f.name)) for f in fields(obj) if in_record(f)}


@dataclass(frozen=True)
class Evidence:
    """A span of the input text that supports a fact; text == note[start:end]."""

    start: int
    end: int
    text: str
    label: str
    section: str | None = None

    def to_dict(self) -> dict:
        return record_fields(self)


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

    def to_dict(self) -> dict:
        record = record_fields(self)
        return {"level": record.pop("level"), "region": self.region, **record}  # region: derived, for readers


@dataclass
class BiopsyLevel:
    """A body biopsied in this session but not treated (the record lists its level only)."""

    level: str
    guidance: str | None = None  # read by the coding rules
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class NotTreated:
    level: str
    reason: str
    evidence: list[Evidence] = field(default_factory=list, metadata=OFF_RECORD)
    # the reason rests on an explicit statement about this level that the review model's features do not
    # read: an addendum's correction away from it, or a stop with its filler denied ("removed without
    # cement injection"); review/confidence.py does not let the model overrule it
    stated: bool = field(default=False, metadata=OFF_RECORD)

    def to_dict(self) -> dict:
        return record_fields(self)


DOCUMENT_TYPES = ("procedure_report", "consult", "history_and_physical", "discharge_summary", "nursing_note",
                  "radiology_report", "pathology_report", "clinic_note", "other")


@dataclass
class DocumentFacts:
    """What the document is and whether it records an in-scope procedure (vertebroplasty, augmentation,
    sacroplasty) of its own session; only such a record treats levels."""

    type: str  # one of DOCUMENT_TYPES
    in_scope_procedure: bool
    evidence: list[Evidence] = field(default_factory=list)
    # a revenue-cycle or coding document (prior authorization, appeal, query, charge review): type 'other',
    # never a record of the session it quotes; its evidence is the title that says so
    administrative: bool = field(default=False, metadata=OFF_RECORD)

    def to_dict(self) -> dict:
        return record_fields(self)


SEDATION_LEVELS = ("none", "local", "minimal", "moderate", "deep", "mac", "general")
SEDATION_PROVIDERS = ("proceduralist", "other_provider", "anesthesia")


@dataclass
class SedationFacts:
    """Sedation or anesthesia of this session (coding-rules 0.1), with the words that say so."""

    level: str | None = None  # one of SEDATION_LEVELS; None: not documented
    given_by: str | None = None  # one of SEDATION_PROVIDERS; None: not stated
    observer: bool = False  # an independent trained observer is documented
    minutes: int | None = None  # explicit intraservice minutes, or from sedation start/stop times
    minutes_source: str | None = None  # stated | clock | None
    age_years: int | None = None  # when the note states it
    sedative_given: bool = False  # a sedative or analgesic drug is named for this session
    propofol: bool = False
    conflicts: list[str] = field(default_factory=list)  # contradictions (rule S9)
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def documented(self) -> bool:
        return self.level is not None or self.sedative_given

    def to_dict(self) -> dict:
        return record_fields(self)


@dataclass(frozen=True)
class ServiceDate:
    """The date of service and where it came from: caller | note | none."""

    value: str | None  # ISO date
    source: str  # caller | note | none
    evidence: Evidence | None = None

    def to_dict(self) -> dict:
        return record_fields(self)

ABLATION_KINDS = ("radiofrequency", "cryoablation", "other")


@dataclass
class TumorAblation:
    """Percutaneous ablation of a tumor in a body treated or biopsied this session (coding-rules 0)."""

    kind: str  # one of ABLATION_KINDS
    evidence: list[Evidence] = field(default_factory=list)

    def to_dict(self) -> dict:
        return record_fields(self)


@dataclass
class NoteFacts:
    procedures: list[LevelFacts] = field(default_factory=list)
    # written to the record as `biopsy_only_levels`, the levels alone
    biopsy_only: list[BiopsyLevel] = field(default_factory=list, metadata=OFF_RECORD)
    imaging: list[str] = field(default_factory=list)  # fluoroscopy | ct, this session only
    not_treated: list[NotTreated] = field(default_factory=list)
    # procedures of other families seen in the note, e.g. "instrumentation / fusion" (not coded: review)
    other_procedures: list[str] = field(default_factory=list)
    # sedation or anesthesia of this session (coding-rules 0.1); coded into additional_codes
    sedation: SedationFacts = field(default_factory=SedationFacts)
    # tumor ablation of a treated or biopsied body this session; coded into additional_codes
    ablation: TumorAblation | None = field(default=None, metadata=OFF_RECORD)
    # the date of service the note states (decide/date_of_service.py); the record's date_of_service says
    # which date was used and where it came from
    stated_date: ServiceDate | None = field(default=None, metadata=OFF_RECORD)
    # written first, below; facts built by hand (tests, callers) say nothing about the document
    document: DocumentFacts = field(default_factory=lambda: DocumentFacts("other", False))
    # True when needles/cannulas were placed in this session but no filler went in anywhere
    needle_only: bool = field(default=False, metadata=OFF_RECORD)
    # True when the session was cancelled before any needle and nothing was done (coding rule 22)
    session_cancelled: bool = field(default=False, metadata=OFF_RECORD)
    # the record's warnings are the scored ones (NoteResult.warnings), which include these
    warnings: list[str] = field(default_factory=list, metadata=OFF_RECORD)
    # the warnings that should send the note to a coder (a subset of `warnings`)
    review_reasons: list[str] = field(default_factory=list, metadata=OFF_RECORD)
    # the concerns behind `warnings` (same order); `warnings` and `review_reasons` are derived from them
    concerns: list[Concern] = field(default_factory=list, metadata=OFF_RECORD)

    @property
    def biopsy_only_levels(self) -> list[str]:
        return [b.level for b in self.biopsy_only]

    def to_dict(self) -> dict:
        record = record_fields(self)
        return {"document": record.pop("document"), "procedures": record.pop("procedures"),
                "biopsy_only_levels": self.biopsy_only_levels, **record}
