"""The orchestrator: sentences of mentions → NoteFacts, in the order the decisions depend on each other."""

from __future__ import annotations

import re
from collections.abc import Callable

from ..concerns import ConcernCode, forces_review, messages
from ..facts import NoteFacts, NotTreated, ServiceDate, level_index
from ..labels import Cue
from ..mentions import Mention, Sentence
from ..text import noise
from .ablation import ABLATION_LITERAL, is_ablation_of_session, session_ablation
from .attachment import attach
from .biopsy import biopsy_only_levels, place_unlevelled_biopsy
from .corrections import apply_addendum_corrections
from .cues import CEMENT_TYPES, IMAGING, is_positive
from .date_of_service import note_service_date
from .document import narrates_the_procedure, read_document, records_a_session
from .level_facts import level_facts
from .note_index import NoteIndex, Rank, as_evidence
from .pipe_tables import add_table_cues
from .section_roles import IMAGING_SECTIONS, NOT_NOW_SECTIONS, PROCEDURAL
from .sedation import sedation_facts
from .treated import (
    biopsied_reason,
    filler_denied,
    is_reference_only,
    not_treated_reason,
    retold_reason,
    session_cancelled,
    session_stop,
    treated_levels,
)

BALLOON_CUES = frozenset({Cue.CAVITY_BALLOON, Cue.INFLATE})
FILLER_CUES = frozenset(CEMENT_TYPES) | {Cue.CEMENT_GENERIC}
NOISE_NAMES = {"ocr": "an OCR scan", "dictation": "raw speech recognition"}


def names_filler(mentions) -> bool:
    """Cement, graft or a bone substitute named positively in a section about the session."""
    return any(m.label in FILLER_CUES and is_positive(m) and m.section in PROCEDURAL for m in mentions)


def balloon_inflated(attachments) -> bool:
    """A balloon inflated in this level in a section about the session: a cavity was made (curettes and drills
    are also the tools of a discectomy or a fusion, so only a balloon counts beside another family)."""
    return any(a.mention.label in BALLOON_CUES and is_positive(a.mention) and a.mention.section in PROCEDURAL
               and a.rank >= Rank.INHERITED for a in attachments)


def facts_from_sentences(sentences: list[Sentence], text: str, token_text: Callable[[int], str],
                         normalized: str | None = None) -> NoteFacts:
    """text: the note as given; token_text: token index → its text; normalized: the text the Doc was made
    of (extractor.text.normalize: same length, OCR zeros read), for the stages that match the text itself.
    Mutates the sentences' mentions (table cues, addendum corrections)."""
    add_table_cues(sentences, text)
    index = NoteIndex(sentences, text, token_text)
    apply_addendum_corrections(index)
    attach(index)

    mentions = [m for s in sentences for m in s.mentions]
    sacro_note = any(m.label == Cue.PROC_SACRO and is_positive(m) and m.section in PROCEDURAL for m in mentions)
    imaging = sorted({
        "ct" if m.label == Cue.IMAGING_CT else "fluoroscopy"
        for m in mentions
        if m.label in IMAGING and is_positive(m) and m.section in IMAGING_SECTIONS
    })

    document = read_document(text, mentions)
    treated_rows = treated_levels(index, sacro_note)
    retold: set[str] = set()
    other_family = [m for m in mentions if m.label == Cue.OUT_OF_SCOPE and is_positive(m) and m.section in PROCEDURAL
                    and m.literal != ABLATION_LITERAL]  # tumor ablation then cement is a vertebroplasty
    if treated_rows and not document.in_scope_procedure and other_family:
        # a record of another family's procedure (fusion with graft, cement-augmented screws, an injection, an
        # arthroplasty) names no vertebroplasty, augmentation or sacroplasty: its graft, cement and cages
        # belong to that procedure, except in a body where an inflated balloon made a cavity that was filled
        kept = [row for row in treated_rows if balloon_inflated(row[2])]
        if len(kept) < len(treated_rows):
            names = ", ".join(sorted({m.literal for m in other_family}))
            dropped = [row[0] for row in treated_rows if row not in kept]
            index.concern(ConcernCode.DOCUMENT_NOT_IN_SCOPE, f"a record of another procedure ({names}): "
                          f"{', '.join(dropped)} read as treated, but no vertebroplasty, augmentation or "
                          "sacroplasty is named and no cavity was made there; not coded", *dropped)
        treated_rows = kept
    elif treated_rows and not document.in_scope_procedure and (
            not records_a_session(document) or not names_filler(mentions) and (
                document.type == "procedure_report" or not narrates_the_procedure(mentions))):
        # not a procedure record (consult, H&P, nursing, radiology...), or a record that names no in-scope
        # procedure and no filler (a laparotomy's "T8" stapler "filled with", a nerve ablation's current
        # "delivered" at T1), or a note of no known kind that also places no needle (a cardiac CT's "D1" and
        # its "80cc injected" of contrast): none of its levels is treated now, and a coder looks. A procedure
        # report naming a filler but no in-scope procedure keeps its levels (its filler and device cues decide)
        kind = "administrative (authorization, appeal, query, charge review)" if document.administrative \
            else document.type
        index.concern(ConcernCode.DOCUMENT_NOT_IN_SCOPE, f"{kind}: levels read as treated, but the "
                      "document records no vertebroplasty, augmentation or sacroplasty of its own session; "
                      "none is coded")
        # what a retold procedure treated was treated in another session: historical here (an imaging or
        # pathology report's levels stay findings)
        if document.type not in ("radiology_report", "pathology_report"):
            retold = {row[0] for row in treated_rows}
        treated_rows = []
    single = len(treated_rows) == 1
    treated = [level_facts(index, level, candidates, attachments, fill, imaging, single)
               for level, candidates, attachments, fill in treated_rows]
    treated_names = {p.level for p in treated}
    # a biopsy of this session is a procedure record's (a discharge summary or a pathology report retells one
    # done elsewhere); without an in-scope procedure or a filled body, a needle is narrated and no other
    # family's procedure (an ACDF) is the work
    biopsy_session = records_a_session(document) and (
        document.in_scope_procedure or bool(treated) or (narrates_the_procedure(mentions) and not other_family))
    biopsy_only = biopsy_only_levels(index, treated_names, imaging) if biopsy_session else []
    place_unlevelled_biopsy(index, treated, biopsy_only)

    biopsied = {b.level for b in biopsy_only}
    not_treated = []
    for level in sorted(set(index.level_mentions) | index.corrected, key=level_index):
        if level in treated_names:
            continue
        if level in index.corrected and not index.level_mentions[level]:  # the addendum moved it away
            evidence = index.correction_evidence[level]
            not_treated.append(NotTreated(level, "other", [as_evidence(evidence, "LEVEL")], stated=True))
            continue
        if is_reference_only(index.level_mentions[level]) or all(
                unchecked_option(text, m) for m in index.level_mentions[level]):
            continue
        first = index.level_mentions[level][0]
        if level in biopsied:
            reason = biopsied_reason(index, level)
        else:
            reason = not_treated_reason(index, level)
        if level in retold:
            reason = retold_reason(index, level, reason)
        stated = reason == "aborted" and filler_denied(index, level)
        not_treated.append(NotTreated(level, reason, [as_evidence(first, "LEVEL")], stated=stated))

    needles_placed = any(m.label == Cue.NEEDLE and is_positive(m) and m.section in PROCEDURAL for m in mentions)
    needle_only = not treated and not biopsy_only and needles_placed and (
        any(nt.reason == "aborted" for nt in not_treated) or session_stop(index) is not None
    )
    if needle_only:
        index.concern(ConcernCode.NEEDLES_WITHOUT_FILLER,
                      "needles were placed but no filler was delivered at any level")
    # called off before any needle: nothing was done, but a facility claim may still report it (rule 22)
    cancelled = (not treated and not biopsy_only and not needle_only and records_a_session(document)
                 and session_cancelled(sentences, text))

    ablation = session_ablation(mentions, bool(treated or biopsy_only))
    other = sorted({m.literal for m in mentions if m.label == Cue.OUT_OF_SCOPE and is_positive(m)
                    and m.section not in NOT_NOW_SECTIONS and not (ablation and is_ablation_of_session(m))})
    for p in treated:
        if p.approach == "unilateral" and p.side is None:
            index.concern(ConcernCode.SIDE_NOT_STATED, f"{p.level}: unilateral approach, side not stated", p.level)
        if p.cement is None:
            index.concern(ConcernCode.FILLER_NOT_NAMED, f"{p.level}: filler material not named", p.level)
    for nt in not_treated:
        if nt.reason == "aborted":
            index.concern(ConcernCode.LEVEL_ABORTED, f"{nt.level}: attempted and aborted before filling; not counted",
                          nt.level)
    for p in treated:
        named = index.level_mentions[p.level]
        if named and all(m.is_range for m in named):  # a weaker reading than a level named on its own
            first, last = named[0].levels[0], named[0].levels[-1]
            index.concern(ConcernCode.LEVEL_IN_RANGE_ONLY, f"{p.level}: treated only through the range "
                          f"{first}-{last}; not named on its own in the note", p.level)

    kinds = noise(text)
    if kinds and (treated or biopsy_only):
        index.concern(ConcernCode.NOISY_TEXT, f"the note reads as {' and '.join(NOISE_NAMES[k] for k in kinds)}: "
                      "levels, sides and volumes may be misread")

    return NoteFacts(
        procedures=treated,
        biopsy_only=biopsy_only,
        imaging=imaging if (treated or biopsy_only or needle_only) else [],
        not_treated=not_treated,
        other_procedures=other,
        needle_only=bool(needle_only),
        session_cancelled=cancelled,
        sedation=sedation_facts(sentences, text, normalized),
        ablation=ablation,
        stated_date=_stated_date(text),
        warnings=messages(index.concerns),
        review_reasons=[c.message for c in index.concerns if forces_review(c.code)],
        concerns=list(index.concerns),
        document=document,
    )



def _stated_date(text: str) -> ServiceDate | None:
    found = note_service_date(text)
    if found is None:
        return None
    day, evidence = found
    return ServiceDate(day.isoformat(), "note", evidence)


# an empty template box just before the mention on its line: "[ ] Sacroplasty" is an option not chosen
_EMPTY_BOX_BEFORE = re.compile(r"\[\s?\][ \t]*$")


def unchecked_option(text: str, m: Mention) -> bool:
    """The mention is a template option whose box is empty: it names nothing the note is about."""
    line_start = text.rfind("\n", 0, m.start) + 1
    return _EMPTY_BOX_BEFORE.search(text, line_start, m.start) is not None
