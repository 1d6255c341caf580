"""The document stage: what the note is (its opening, by the type rules of patterns/document.json) and
whether it records an in-scope procedure (vertebroplasty, augmentation, sacroplasty) of its own session:
a positive procedure cue in a section about this session. Only such a record treats levels."""

from __future__ import annotations

from ..facts import DocumentFacts, Evidence
from ..labels import Cue, Modifier, Section
from ..lexicon import lexicon
from ..mentions import Mention
from .cues import is_positive
from .section_roles import PROCEDURAL

IN_SCOPE_CUES = frozenset({Cue.PROC_VP, Cue.PROC_AUG, Cue.PROC_SACRO})
OPENING_CHARS = 400  # a title or first heading sits here
# document type → its rule in patterns/document.json, tried in this order (named in full: the lexicon
# test checks that every entry is read by the code)
TYPE_RULES = {"discharge_summary": "type_discharge_summary", "history_and_physical": "type_history_and_physical",
              "consult": "type_consult", "nursing_note": "type_nursing_note",
              "pathology_report": "type_pathology_report", "procedure_report": "type_procedure_report",
              "radiology_report": "type_radiology_report", "clinic_note": "type_clinic_note"}


def document_type(text: str) -> tuple[str, Evidence | None]:
    """The first type rule that matches the note's opening, with its span; ('other', None) if none does."""
    opening = text[:OPENING_CHARS]
    rules = lexicon("document")
    for kind, rule in TYPE_RULES.items():
        found = rules.regex(rule).search(opening)
        if found:
            return kind, Evidence(found.start(), found.end(), found.group(), "DOCUMENT")
    return "other", None


def in_scope_cues(mentions: list[Mention], sections=PROCEDURAL) -> list[Mention]:
    """Positive vertebroplasty / augmentation / sacroplasty cues in the given sections."""
    return [m for m in mentions if m.label in IN_SCOPE_CUES and (sections is None or m.section in sections)
            and (is_positive(m) or _titled(m))]


def _titled(m: Mention) -> bool:
    # a procedure heading names what was done even when its words read as planned ("for kyphoplasty")
    return m.section == Section.PROCEDURE_TITLE and Modifier.NEGATED_EXISTENCE not in m.modifiers


# an IR report is often titled like an imaging exam or carries a PACU line: a procedure heading naming
# an in-scope procedure says what it is
RECORD_TYPES = frozenset({"procedure_report", "other"})
# documents that record procedures done elsewhere in them (an admission's), read anywhere
RECORDING_TYPES = RECORD_TYPES | {"discharge_summary"}


def read_document(text: str, mentions: list[Mention]) -> DocumentFacts:
    """in_scope_procedure: an in-scope procedure is named in a section about this session, or anywhere in a
    document that records procedures (RECORDING_TYPES)."""
    kind, title = document_type(text)
    cues = in_scope_cues(mentions)
    if cues and kind in ("other", "radiology_report", "nursing_note"):
        kind = "procedure_report"
    if not cues and kind in RECORDING_TYPES:
        cues = in_scope_cues(mentions, None)
    evidence = ([title] if title else []) + [Evidence(m.start, m.end, m.text, "PROCEDURE", m.section)
                                             for m in cues[:1]]
    return DocumentFacts(kind, bool(cues), evidence)
