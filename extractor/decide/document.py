"""The document stage: what the note is (its opening, by the type rules of patterns/document.json) and
whether it records an in-scope procedure (vertebroplasty, augmentation, sacroplasty) of its own session:
a positive procedure cue in a section about this session. Only such a record treats levels."""

from __future__ import annotations

import re

from ..facts import DocumentFacts, Evidence
from ..labels import Cue, Modifier, Section
from ..lexicon import lexicon
from ..mentions import Mention
from .cues import is_positive
from .section_roles import PROCEDURAL

IN_SCOPE_CUES = frozenset({Cue.PROC_VP, Cue.PROC_AUG, Cue.PROC_SACRO})
_BARE_AUGMENT = re.compile(r"augment(?:ed|ation)", re.IGNORECASE)
OPENING_CHARS = 400  # a title or first heading sits here
# document type → its rule in patterns/document.json, tried in this order (named in full: the lexicon
# test checks that every entry is read by the code)
TYPE_RULES = {"administrative": "type_administrative", "discharge_summary": "type_discharge_summary",
              "history_and_physical": "type_history_and_physical", "consult": "type_consult", "nursing_note": "type_nursing_note",
              "pathology_report": "type_pathology_report", "procedure_report": "type_procedure_report",
              "radiology_report": "type_radiology_report", "clinic_note": "type_clinic_note"}


# a prior-authorization request, an appeal, a coder's query: written as 'other' (output.md's types), and
# never a record of the session it quotes
ADMINISTRATIVE = "administrative"


def document_type(text: str) -> tuple[str, Evidence | None]:
    """The type whose rule matches earliest in the note's opening (its title comes first; a tie goes to
    the rule listed first), with its span; ('other', None) if none does. 'administrative' is a kind of
    'other' (read_document writes it so)."""
    opening = text[:OPENING_CHARS]
    search = lexicon("document").screen(tuple(TYPE_RULES.values())).searcher(opening)
    best = None
    for order, (kind, rule) in enumerate(TYPE_RULES.items()):
        found = search(rule)
        if found and (best is None or (found.start(), order) < (best[1].start(), best[2])):
            best = (kind, found, order)
    if best is None:
        return "other", None
    kind, found, _ = best
    return kind, Evidence(found.start(), found.end(), found.group(), "DOCUMENT")


def in_scope_cues(mentions: list[Mention], sections=PROCEDURAL) -> list[Mention]:
    """Positive vertebroplasty / augmentation / sacroplasty cues in the given sections."""
    return [m for m in mentions if m.label in IN_SCOPE_CUES and (sections is None or m.section in sections)
            and (is_positive(m) or _titled(m))]


def _titled(m: Mention) -> bool:
    # a procedure heading names what was done even when its words read as planned ("for kyphoplasty")
    return m.section == Section.PROCEDURE_TITLE and Modifier.NEGATED_EXISTENCE not in m.modifiers


# only a record of the procedure itself (or a note of unknown kind) records one of its own session; a
# discharge summary, a PACU note or a CT report after the procedure speaks of one recorded elsewhere
RECORD_TYPES = frozenset({"procedure_report", "other"})
# an IR report is often titled like an imaging exam or carries a PACU line: it is a procedure report when
# it narrates the procedure's steps (needles, trocars, cannulas placed); a note of no known kind, when it
# names an in-scope procedure
TITLED_LIKE_A_RECORD = frozenset({"other", "radiology_report", "nursing_note"})


def narrates_the_procedure(mentions: list[Mention]) -> bool:
    """A needle, trocar or cannula named positively in a section about this session: the operator's account."""
    return any(m.label == Cue.NEEDLE and is_positive(m) and m.section in PROCEDURAL for m in mentions)


def read_document(text: str, mentions: list[Mention]) -> DocumentFacts:
    """in_scope_procedure: a record of the procedure (RECORD_TYPES) names an in-scope procedure in a section
    about this session."""
    kind, title = document_type(text)
    if kind == ADMINISTRATIVE:  # its quotes of the operative report narrate a session it does not record
        return DocumentFacts("other", False, [title], administrative=True)
    cues = in_scope_cues(mentions)
    if cues and all(_BARE_AUGMENT.fullmatch(m.text) for m in cues) and any(
            m.label == Cue.OUT_OF_SCOPE and is_positive(m) for m in mentions):
        cues = []  # "each screw was augmented": beside instrumentation, a bare "augmented" is the screws'
    if (cues and kind == "other") or (kind in TITLED_LIKE_A_RECORD and narrates_the_procedure(mentions)):
        kind = "procedure_report"
    in_scope = bool(cues) and kind in RECORD_TYPES
    evidence = ([title] if title else []) + [Evidence(m.start, m.end, m.text, "PROCEDURE", m.section)
                                             for m in cues[:1]]
    return DocumentFacts(kind, in_scope, evidence)


def records_a_session(document: DocumentFacts) -> bool:
    """A record of a procedure session (or a note of no known kind), not a summary, report or letter about one."""
    return document.type in RECORD_TYPES and not document.administrative
