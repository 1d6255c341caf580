"""Which levels were treated in this session, which were not (and why), and session-wide stops.

A level is treated when it is named positively in a procedural section and filler reached it: strong,
specific proof of filling ("4 mL PMMA was injected at T12") wins over a stop elsewhere; a procedure
name or a bare mention of cement does not (titles name the planned procedure; cement is mixed before
it is used).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..concerns import ConcernCode
from ..facts import level_index
from ..labels import Cue, Modifier, Section
from ..lexicon import lexicon
from ..mentions import Mention, Sentence
from .cues import CAVITY, CEMENT_TYPES, DELIVERY_NAMES, NEGATING, PROC, TREAT, is_negated, is_positive
from .note_index import Attachment, NoteIndex, Rank
from .section_roles import FINDING_SECTIONS, HISTORY_SECTIONS, NEGATION_SECTIONS, PLAN_SECTIONS, PROCEDURAL

STOP_CUES = TREAT | {Cue.SESSION}  # an abort of these stops the level
SESSION_STOP_CUES = STOP_CUES | {Cue.NEEDLE}  # ... and of these, said of no level, the session


def candidate_mentions(index: NoteIndex, level: str, sacro_note: bool) -> list[Mention]:
    """Positive mentions of the level in a procedural section."""
    out = []
    for m in index.level_mentions[level]:
        if m.section not in PROCEDURAL or not is_positive(m):
            continue
        s = index.sentence_of(m)
        has_treat = any(x.label in TREAT and is_positive(x) for x in s.mentions)
        if m.is_range and not has_treat:
            continue
        if level == "sacrum" and not (sacro_note or has_treat):
            continue
        out.append(m)
    return out


def named_with_treatment(index: NoteIndex, candidates: list[Mention]) -> bool:
    """Some mention of the level shares its sentence with a treatment or cavity cue."""
    return any(any(x.label in TREAT | CAVITY and is_positive(x) for x in index.sentence_of(m).mentions)
               for m in candidates)


def one_side(index: NoteIndex, m: Mention) -> bool:
    """The mention's sentence names one side of access: its abort or denial stops that side only."""
    return bool(lexicon().regex("one_side").search(index.sentence_text(index.sentence_of(m)).lower()))


def strong_negative(index: NoteIndex, level: str) -> str | None:
    """aborted | negated | None: the level itself is said to be aborted or not treated."""
    reason = None
    for a in index.by_level[level]:
        m = a.mention
        if a.rank >= Rank.INHERITED and Modifier.ABORTED in m.modifiers and m.section in NEGATION_SECTIONS \
                and m.label in STOP_CUES and not one_side(index, m):
            return "aborted"
    for m in index.level_mentions[level]:
        if m.section not in NEGATION_SECTIONS:
            continue
        # "the left pedicle attempt was abandoned" stops one side only
        if Modifier.ABORTED in m.modifiers and not one_side(index, m):
            return "aborted"
        not_treated = Modifier.NOT_TREATED in m.modifiers and not one_side(index, m)
        # a denied treatment; a denied cavity ("No balloon/cavity at T6") says how the level was treated (its
        # technique), not that it was not
        denied = Modifier.NEGATED_EXISTENCE in m.modifiers and any(
            x.label in TREAT and is_negated(x) for x in index.sentence_of(m).mentions)
        if not_treated or denied:
            reason = "negated"
    return reason


def fill_strength(index: NoteIndex, a: Attachment) -> int:
    """2: filler delivered; 1: the procedure is named or cement is mentioned; 0: no evidence."""
    m = a.mention
    if m.label not in TREAT or not is_positive(m) or m.section not in PROCEDURAL:
        return 0
    if m.label in PROC:
        return 1
    s = index.sentence_of(m)
    if through_screws(s):
        return 0
    material = any(x.label in CEMENT_TYPES or x.label == Cue.CEMENT_GENERIC for x in s.mentions if is_positive(x))
    if m.label == Cue.CONVERT_VP:  # "direct cement injection"
        return 2
    if m.label == Cue.FILL_VERB:
        if lexicon().regex("not_filler_liquid").search(index.sentence_text(s).lower()) and not material:
            return 0
        return 2
    delivered = any(x.label in (Cue.FILL_VERB, Cue.VOLUME) and is_positive(x) for x in s.mentions)
    return 2 if delivered else 1


# the rules of patterns/targets.json (label OUT_OF_SCOPE) that say cement went into screws
SCREW_CEMENT_LITERALS = frozenset({"cement-augmented screws", "cement through screws"})


def through_screws(s: Sentence) -> bool:
    """'PMMA delivered through each screw, 2 mL per screw': the cement augments screws (instrumentation), it
    fills no body, unless the sentence also names an in-scope procedure or a cavity."""
    return any(x.label == Cue.OUT_OF_SCOPE and x.literal in SCREW_CEMENT_LITERALS and is_positive(x) for x in s.mentions) \
        and not any(x.label in PROC | CAVITY and is_positive(x) for x in s.mentions)


def delivery_negated(index: NoteIndex, m: Mention) -> bool:
    """'No cement was injected', 'vertebroplasty not performed' (not 'no cement in the canal')."""
    if not is_negated(m):
        return False
    if m.label in DELIVERY_NAMES:
        return True
    if m.label == Cue.CEMENT_GENERIC:  # "no PMMA was used" only names the material that was not used
        if lexicon().regex("outside_the_body").search(index.text[m.end : m.end + 80]):
            return False  # "no cement in the S1 or S2 foramina": a leak denied, the filling stands
        return bool(lexicon().regex("delivery_verb").search(index.sentence_text(index.sentence_of(m)).lower()))
    return False


def block_negative(index: NoteIndex, attachments: list[Attachment]) -> str | None:
    """'No cement was injected.' inside the level's own block."""
    for a in attachments:
        if a.rank >= Rank.INHERITED and a.mention.section in NEGATION_SECTIONS:
            if delivery_negated(index, a.mention):
                return "negated"
            if Modifier.ABORTED in a.mention.modifiers and a.mention.label in STOP_CUES:
                return "aborted"
    return None


def session_stop(index: NoteIndex) -> str | None:
    """'no cement was injected at any level', 'the procedure was stopped': aborted | negated | None."""
    stop = None
    for a in index.to_all:
        m = a.mention
        if m.section not in PROCEDURAL:
            continue
        if one_side(index, m):
            continue  # "R side abandoned, no cement on the right": the other side went on
        if Modifier.ABORTED in m.modifiers and m.label in SESSION_STOP_CUES:
            stop = "aborted"
        elif delivery_negated(index, m) and stop is None:
            stop = "negated"
    return stop


def session_cancelled(sentences: list[Sentence], text: str) -> bool:
    """'The procedure was cancelled.' said of this session (not in a history section): coding rule 22 tells a
    cancellation before any needle (facility 73/74, nothing on the physician claim) from a stop after one."""
    words = lexicon().regex("session_cancelled")
    return any(s.section not in HISTORY_SECTIONS and words.search(text, s.start, s.end) for s in sentences)


def filler_denied(index: NoteIndex, level: str) -> bool:
    """'The T9 cannulas were removed without any ... cement injection': the level's own statement says no
    filler went in (not one side's: the other side may have filled it)."""
    return any(a.rank >= Rank.INHERITED and a.mention.section in NEGATION_SECTIONS
               and delivery_negated(index, a.mention) and not one_side(index, a.mention)
               for a in index.by_level[level])


def biopsied_reason(index: NoteIndex, level: str) -> str:
    """Why a biopsied level was not treated: aborted (the planned treatment stopped) | planned (treatment
    later) | other (a biopsy was all that was meant)."""
    mods = set().union(*(m.modifiers for m in index.level_mentions[level]))
    if Modifier.ABORTED in mods or strong_negative(index, level) == "aborted":
        return "aborted"
    if Modifier.HYPOTHETICAL in mods or planned_treatment(index, index.level_mentions[level]) \
            or deferred_treatment(index, level):  # "PLAN: vertebroplasty of T10 pending pathology"
        return "planned"
    return "other"


def not_treated_reason(index: NoteIndex, level: str) -> str:
    """Why a named level was not treated, by what the note says the level is, most telling first:
    other (corrected away) | aborted | historical (a procedure or cement of another time at the level) |
    negated (its treatment denied in so many words) | planned | finding (a fracture, lesion or old deformity
    seen there) | negated (only denied: "no fracture at T9") | other. "T11 was not treated" alone gives no
    reason: the level's other mentions do."""
    mentions = index.level_mentions[level]
    mods = set().union(*(m.modifiers for m in mentions)) if mentions else set()
    sections = {m.section for m in mentions}
    if level in index.corrected:
        return "other"
    if Modifier.ABORTED in mods or strong_negative(index, level) == "aborted":
        return "aborted"
    if prior_procedure(index, level):
        return "historical"
    if treatment_denied(index, level):  # "No augmentation was performed at T10", whatever else it is
        return "negated"
    if planned_treatment(index, mentions) or deferred_treatment(index, level):
        return "planned"  # before prior care: a braced fracture now scheduled for kyphoplasty is planned
    if prior_other_care(index, level):
        return "historical"
    if Modifier.HYPOTHETICAL in mods:
        return "planned"
    asserted = [m for m in mentions if not m.modifiers & NEGATING]
    if Modifier.FINDING in mods or Modifier.HISTORICAL in mods or (asserted and sections & FINDING_SECTIONS):
        return "finding"
    if mods & NEGATING:
        return "negated"
    # a level named in the plan with no procedure ("radiation oncology for T10", "T12 normal") is what it is
    # above; named there and nothing else, the plan is all the note says of it
    return "planned" if sections & PLAN_SECTIONS else "other"


def retold_reason(index: NoteIndex, level: str, reason: str) -> str:
    """The reason for a level that a retold procedure treated (a discharge summary's or a clinic note's
    account of a kyphoplasty): it was treated in another session, historical, unless the note denies that
    treatment or plans it in so many words."""
    if reason in ("negated", "aborted"):
        return reason
    if reason == "planned" and (planned_treatment(index, index.level_mentions[level])
                                or deferred_treatment(index, level)):
        return reason
    return "historical"


def planned_treatment(index: NoteIndex, mentions: list[Mention]) -> bool:
    """Some mention in a plan section shares its sentence with a procedure, cavity, filler or needle cue."""
    return any(m.section in PLAN_SECTIONS and any(x.label in TREAT | CAVITY | {Cue.NEEDLE}
                                                  for x in index.sentence_of(m).mentions) for m in mentions)


def deferred_treatment(index: NoteIndex, level: str) -> bool:
    """A treatment put off to another session in the sentence of a mention, the level nearest the phrase:
    "L2 ... could be treated at a later session", "C7 ...; will be considered for a similar procedure at a
    later date" (lexicon deferred_treatment)."""
    return _said_of_level(index, level, "deferred_treatment")


def prior_other_care(index: NoteIndex, level: str) -> bool:
    """Care of another kind given to the level before, said in a past-tense way: radiotherapy, a brace,
    conservative management ("Previously treated T9 with radiation only", "2015: T5 fracture, managed with
    bracing alone"); the level was dealt with at another time, not merely seen (lexicon prior_other_care)."""
    return _said_of_level(index, level, "prior_other_care", past_only=True)


def _said_of_level(index: NoteIndex, level: str, entry: str, past_only: bool = False) -> bool:
    """A match of the lexicon entry in the sentence of a mention of the level, the level among the group of
    levels nearest the match; past_only: only mentions marked past or in a history section, in a sentence that
    proposes no care (lexicon proposed_care)."""
    pattern = lexicon().regex(entry)
    for m in index.level_mentions[level]:
        if past_only and (Modifier.HYPOTHETICAL in m.modifiers or not (
                Modifier.HISTORICAL in m.modifiers or m.section in HISTORY_SECTIONS)):
            continue
        sentence = index.sentence_of(m)
        if past_only and lexicon().regex("proposed_care").search(index.text, sentence.start, sentence.end):
            continue
        for found in pattern.finditer(index.text, sentence.start, sentence.end):
            if level in _nearest_levels(index, sentence, _Span(found.start(), found.end())):
                return True
    return False


@dataclass(frozen=True)
class _Span:
    start: int
    end: int


def treatment_denied(index: NoteIndex, level: str) -> bool:
    """The note denies this session's treatment of the level in so many words: a denied procedure or filling
    in a sentence that names the level as denied ("No augmentation was performed at T10", "no cement was
    placed at L2"), the denied cue nearest this level; not a bare "not treated" (the level's other mentions say
    why) nor a denied cavity."""
    for m in index.level_mentions[level]:
        if m.section not in NEGATION_SECTIONS or not m.modifiers & NEGATING or one_side(index, m):
            continue
        sentence = index.sentence_of(m)
        if any(x.label in TREAT and is_negated(x) and level in _nearest_levels(index, sentence, x)
               for x in sentence.mentions):
            return True
    return False


_LINKED = re.compile(r"[\s,/&]*(?:(?:and|or)\b[\s,]*)?", re.IGNORECASE)


def _nearest_levels(index: NoteIndex, sentence: Sentence, cue: Mention) -> set[str]:
    """The levels of the group of level mentions nearest the cue in its sentence; a group is levels joined
    only by commas, 'and', 'or' ("T11 and T12 kyphoplasty" is both levels')."""
    named = sorted((x for x in sentence.mentions if x.label == Cue.LEVEL), key=lambda x: x.start)
    groups: list[list[Mention]] = []
    for x in named:
        if groups and _LINKED.fullmatch(index.text[groups[-1][-1].end : x.start]):
            groups[-1].append(x)
        else:
            groups.append([x])
    if not groups:
        return set()

    def distance(group: list[Mention]) -> int:
        return min(max(cue.start - x.end, x.start - cue.end, 0) for x in group)

    nearest = min(distance(g) for g in groups)
    return {lv for g in groups if distance(g) == nearest for x in g for lv in x.levels}


CEMENT_NEAR_TOKENS = 4  # "stable L2 cement", "the cement casts at L1": the cement is the level's


def prior_procedure(index: NoteIndex, level: str) -> bool:
    """A mention of the level shares its sentence with a procedure, biopsy or cement cue of another time: the cue
    or the level is marked historical, or the sentence is in a history or comparison section, or cement
    is said to be there in a findings section ("stable L2 cement")."""
    mentions = index.level_mentions[level]
    for m in mentions:
        sentence = index.sentence_of(m)
        # a cue belongs to the nearest group of levels ("Not treated: T9, T12 (prior kyphoplasty), T2 and L5")
        cues = [x for x in sentence.mentions if x.label in PROC | set(CEMENT_TYPES) | {Cue.CEMENT_GENERIC, Cue.BIOPSY}
                and not x.modifiers & (NEGATING | {Modifier.HYPOTHETICAL}) and level in _nearest_levels(index, sentence, x)]
        if not cues:
            continue
        if Modifier.HISTORICAL in m.modifiers or any(Modifier.HISTORICAL in x.modifiers for x in cues):
            return True
        if m.section in HISTORY_SECTIONS:
            return True
        if m.section in FINDING_SECTIONS and Modifier.HYPOTHETICAL not in m.modifiers and any(
                abs(x.token - m.token) <= CEMENT_NEAR_TOKENS for x in cues):
            return True
    return False


def treated_levels(index: NoteIndex, sacro_note: bool) -> list[tuple[str, list[Mention], list[Attachment],
                                                                      list[Attachment]]]:
    """(level, its candidate mentions, its attachments plus the note-wide ones, its fill cues) of every
    treated level, head to tail; raises a concern for a level described as treated and as stopped."""
    all_fill = [a for a in index.to_all if a.mention.label in TREAT and is_positive(a.mention)
                and a.mention.section in PROCEDURAL]
    global_stop = session_stop(index)
    candidates_of = {lv: candidate_mentions(index, lv, sacro_note) for lv in index.level_mentions}
    candidate_levels = [lv for lv in index.level_mentions if candidates_of[lv]]
    treated = []
    for level in sorted(index.level_mentions, key=level_index):
        candidates = candidates_of[level]
        if not candidates:
            continue
        attachments = index.by_level[level]
        strengths = [(a, fill_strength(index, a)) for a in attachments]
        fill = [a for a, strength in strengths if strength]
        strong = max([a.rank for a, strength in strengths if strength == 2] + [0])
        weak = max([a.rank for a in fill] + ([Rank.ALL] if all_fill else [0]))
        own_stop = strong_negative(index, level)
        stop = own_stop or block_negative(index, attachments) or global_stop
        # a statement about every level ("PMMA was injected") treats only levels named in a treatment
        # context, or the only candidate; not a level named beside screws or an old deformity
        if weak < Rank.GROUP and len(candidate_levels) > 1 and not named_with_treatment(index, candidates):
            weak = 0
        if not ((strong >= Rank.INHERITED and not own_stop) or strong == Rank.DIRECT or (weak and not stop)):
            continue
        if stop:
            index.concern(ConcernCode.TREATED_AND_STOPPED, f"{level}: described as treated and also as {stop}", level)
        treated.append((level, candidates, attachments + index.to_all, fill, strong))
    # a level named only in the procedure's title while the narrative treats other levels in their own words
    # ("PROCEDURE: T7 kyphoplasty" over a narrative of T8): the header and the body disagree; the body is
    # what was done, and a coder looks
    narrated = [row[0] for row in treated if row[4] >= Rank.INHERITED]
    kept = []
    for level, candidates, attachments, fill, strong in treated:
        title_only = all(m.section == Section.PROCEDURE_TITLE for m in index.level_mentions[level])
        if narrated and strong < Rank.INHERITED and title_only:
            index.concern(ConcernCode.TITLE_LEVEL_NOT_NARRATED, f"{level}: named in the procedure title only; the "
                          f"narrative treats {', '.join(narrated)}: not coded, check the header against the body",
                          level)
            continue
        kept.append((level, candidates, attachments, fill))
    return kept


def is_reference_only(mentions: list[Mention]) -> bool:
    """Every mention of the level refers to an image or a comparison: not reported at all."""
    return all(Modifier.REFERENCE in m.modifiers for m in mentions)

