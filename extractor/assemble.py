"""Mentions → NoteFacts: which levels were treated now, and what was done at each.

Plain Python over `mentions.Sentence` records (no spaCy). The hard part is attachment: a cue
("bilateral", "balloon", "4 mL PMMA", "biopsy") must land on the right level. Notes state attributes
three ways and each is handled explicitly:
1. per-level statements and blocks ("T12: ... A unilateral left approach was used. ..."): a sentence
   that names levels sets the subject; following sentences without a level inherit it;
2. global statements ("at each level", a header naming several levels, a sentence before any level):
   apply to every treated level;
3. exceptions: a more specific statement outranks a general one, and among equals the later wins.
Every attachment keeps a rank (how specific it was), so the evidence for a decision is explainable.
"""

from __future__ import annotations

import re

from .attach import (
    BIOPSY_SECTIONS,
    CAVITY,
    CEMENT_TYPES,
    DELIVERY_NAMES,
    IMAGING_SECTIONS,
    NEGATING,
    NEGATION_SECTIONS,
    NOT_NOW_SECTIONS,
    NOT_SUBJECT,
    PROC,
    PROCEDURAL,
    RANK_ALL,
    RANK_DIRECT,
    RANK_GROUP,
    RANK_INHERITED,
    TREAT,
    Attached,
    _apply_addendum_corrections,
    _attach,
    _ev,
    _Note,
    _pos,
    negated,
    positive,
)
from .attributes import _approach, _cement, _guidance, _side, _technique, _volume
from .facts import BiopsyLevel, Evidence, LevelFacts, NoteFacts, NotTreated, level_index
from .mentions import Mention, Sentence


def _is_candidate(note: _Note, level: str, sacro_note: bool) -> list[Mention]:
    """Positive mentions of the level in a procedural section."""
    out = []
    for m in note.level_mentions[level]:
        if m.section not in PROCEDURAL or not positive(m):
            continue
        s = note.sentences[m.sent]
        has_treat = any(x.label in TREAT and positive(x) for x in s.mentions)
        if m.is_range and not has_treat:
            continue
        if level == "sacrum" and not (sacro_note or has_treat):
            continue
        out.append(m)
    return out


_ONE_SIDE = re.compile(r"\b(?:left|right|lt|rt|l|r)\b[^.;]{0,40}\b(?:pedicle|side|needle|cannula|trocar|approach|ala)")


def _named_with_treatment(note: _Note, candidates: list[Mention]) -> bool:
    """Some mention of the level shares its sentence with a treatment or cavity cue."""
    for m in candidates:
        if any(x.label in TREAT | CAVITY and positive(x) for x in note.sentences[m.sent].mentions):
            return True
    return False


def _one_side(note: _Note, m: Mention) -> bool:
    s = note.sentences[m.sent]
    return bool(_ONE_SIDE.search(note.text[s.start : s.end].lower()))


def _strong_negative(note: _Note, level: str) -> str | None:
    reason = None
    for a in note.by_level[level]:
        m = a.mention
        if a.rank >= RANK_INHERITED and "ABORTED" in m.modifiers and m.section in NEGATION_SECTIONS \
                and m.label in TREAT | {"SESSION"} and not _one_side(note, m):
            return "aborted"
    for m in note.level_mentions[level]:
        if m.section not in NEGATION_SECTIONS:
            continue
        # "the left pedicle attempt was abandoned" stops one side only
        if "ABORTED" in m.modifiers and not _one_side(note, m):
            return "aborted"
        if "NOT_TREATED" in m.modifiers and not _one_side(note, m):
            reason = "negated"
        elif "NEGATED_EXISTENCE" in m.modifiers:
            s = note.sentences[m.sent]
            if any(x.label in TREAT | CAVITY and negated(x) for x in s.mentions):
                reason = "negated"
    return reason


_NOT_FILLER = re.compile(r"contrast|lidocaine|bupivacaine|marcaine|anesthetic|saline|venogra|omnipaque|isovue")


def _fill_strength(note: _Note, a: Attached) -> int:
    """2: filler delivered; 1: the procedure is named or cement is mentioned; 0: no evidence."""
    m = a.mention
    if m.label not in TREAT or not positive(m) or m.section not in PROCEDURAL:
        return 0
    if m.label in PROC:
        return 1
    s = note.sentences[m.sent]
    material = any(x.label in CEMENT_TYPES or x.label == "CEMENT_GENERIC" for x in s.mentions if positive(x))
    if m.label == "CONVERT_VP":  # "direct cement injection"
        return 2
    if m.label == "FILL_VERB":
        if _NOT_FILLER.search(note.text[s.start : s.end].lower()) and not material:
            return 0
        return 2
    delivered = any(x.label in ("FILL_VERB", "VOLUME") and positive(x) for x in s.mentions)
    return 2 if delivered else 1


_DELIVERY_VERB = re.compile(r"\b(?:inject|instill|deliver|place|given|give|used|use|fill)")


def _delivery_negated(note: _Note, m: Mention) -> bool:
    """'No cement was injected', 'vertebroplasty not performed' (not 'no cement in the canal')."""
    if not negated(m):
        return False
    if m.label in DELIVERY_NAMES:
        return True
    if m.label == "CEMENT_GENERIC":  # "no PMMA was used" only names the material that was not used
        s = note.sentences[m.sent]
        return bool(_DELIVERY_VERB.search(note.text[s.start : s.end].lower()))
    return False


def _block_negative(note: _Note, items: list[Attached]) -> str | None:
    """'No cement was injected.' inside the level's own block."""
    for a in items:
        if a.rank >= RANK_INHERITED and a.mention.section in NEGATION_SECTIONS:
            if _delivery_negated(note, a.mention):
                return "negated"
            if "ABORTED" in a.mention.modifiers and a.mention.label in TREAT | {"SESSION"}:
                return "aborted"
    return None


def _not_treated_reason(note: _Note, level: str) -> str:
    mentions = note.level_mentions[level]
    mods = set().union(*(m.modifiers for m in mentions)) if mentions else set()
    sections = {m.section for m in mentions}
    if level in note.corrected:
        return "other"
    if "ABORTED" in mods or _strong_negative(note, level) == "aborted":
        return "aborted"
    if "HISTORICAL" in mods:
        return "historical"
    if mods & NEGATING and sections & NEGATION_SECTIONS:
        return "negated"
    if "HYPOTHETICAL" in mods or sections & {"plan", "planned"}:
        return "planned"
    if "FINDING" in mods or sections & {"history", "findings", "comparison", "diagnosis", "assessment"}:
        return "finding"
    return "other"


def assemble(sentences: list[Sentence], text: str, token_text) -> NoteFacts:
    note = _Note(sentences, text, token_text)
    _apply_addendum_corrections(note)
    _attach(note)

    mentions = [m for s in sentences for m in s.mentions]
    procedural_cues = [m for m in mentions if m.section in PROCEDURAL and m.label != "LEVEL"]
    sacro_note = any(m.label == "PROC_SACRO" and positive(m) for m in procedural_cues)
    imaging = sorted(
        {
            "ct" if m.label == "IMAGING_CT" else "fluoroscopy"
            for m in mentions
            if m.label in ("IMAGING_CT", "IMAGING_FLUORO") and positive(m) and m.section in IMAGING_SECTIONS
        }
    )
    all_fill = [a for a in note.to_all if a.mention.label in TREAT and positive(a.mention)
                and a.mention.section in PROCEDURAL]

    # "no cement was injected at any level", "the procedure was stopped": a session-wide stop
    global_stop = None
    for a in note.to_all:
        m = a.mention
        if m.section not in PROCEDURAL:
            continue
        if _one_side(note, m):
            continue  # "R side abandoned, no cement on the right": the other side went on
        if "ABORTED" in m.modifiers and m.label in TREAT | {"SESSION", "NEEDLE"}:
            global_stop = "aborted"
        elif _delivery_negated(note, m) and global_stop is None:
            global_stop = "negated"

    candidate_levels = [lv for lv in note.level_mentions if _is_candidate(note, lv, sacro_note)]
    treated: list[LevelFacts] = []
    for level in sorted(note.level_mentions, key=level_index):
        candidates = _is_candidate(note, level, sacro_note)
        if not candidates:
            continue
        items = note.by_level[level]
        fill = [a for a in items if _fill_strength(note, a)]
        strong = max([a.rank for a in fill if _fill_strength(note, a) == 2] + [0])
        weak = max([a.rank for a in fill] + ([RANK_ALL] if all_fill else [0]))
        stop = _strong_negative(note, level) or _block_negative(note, items) or global_stop
        # strong, specific proof of filling wins over a stop; a procedure name or a bare mention
        # of cement does not (titles name the planned procedure, cement is mixed before it is used)
        own_stop = _strong_negative(note, level)
        # a statement about every level ("PMMA was injected") treats only levels named in a treatment
        # context, or the only candidate; not a level named beside screws or an old deformity
        if weak < RANK_GROUP and len(candidate_levels) > 1 and not _named_with_treatment(note, candidates):
            weak = 0
        if not ((strong >= RANK_INHERITED and not own_stop) or strong == RANK_DIRECT or (weak and not stop)):
            continue
        if stop:
            note.concern(f"{level}: described as treated and also as {stop}", review=True)
        treated.append((level, candidates, items + note.to_all, fill))
    treated = [_level_facts(note, lv, c, it, f, imaging, len(treated) == 1) for lv, c, it, f in treated]

    treated_levels = {p.level for p in treated}
    biopsy_only = _biopsy_only(note, treated_levels, imaging)
    _biopsy_scope(note, treated, biopsy_only)

    not_treated = []
    for level in sorted(note.level_mentions, key=level_index):
        if level in treated_levels or level in {b.level for b in biopsy_only}:
            continue
        ms = note.level_mentions[level]
        if all("REFERENCE" in m.modifiers for m in ms):
            continue
        reason = _not_treated_reason(note, level)
        not_treated.append(NotTreated(level, reason, [_ev(ms[0], "LEVEL")]))

    needles_placed = any(m.label == "NEEDLE" and positive(m) and m.section in PROCEDURAL for m in mentions)
    needle_only = not treated and not biopsy_only and needles_placed and (
        any(nt.reason == "aborted" for nt in not_treated) or global_stop is not None
    )
    if needle_only:
        note.concern("needles were placed but no filler was delivered at any level", review=True)

    other = sorted(
        {
            m.literal
            for m in mentions
            if m.label == "OUT_OF_SCOPE" and positive(m) and m.section not in NOT_NOW_SECTIONS
        }
    )
    for p in treated:
        if p.approach == "unilateral" and p.side is None:
            note.concern(f"{p.level}: unilateral approach, side not stated", review=False)
        if p.cement is None:
            note.concern(f"{p.level}: filler material not named", review=False)
    for nt in not_treated:
        if nt.reason == "aborted":
            note.concern(f"{nt.level}: attempted and aborted before filling; not counted", review=False)

    facts = NoteFacts(
        procedures=treated,
        biopsy_only=biopsy_only,
        imaging=imaging if (treated or biopsy_only or needle_only) else [],
        not_treated=not_treated,
        other_procedures=other,
        needle_only=bool(needle_only),
        warnings=[c.message for c in note.concerns],
        review_reasons=[c.message for c in note.concerns if c.review],
    )
    return facts


def _level_facts(note, level, candidates, items, fill, imaging, single) -> LevelFacts:
    technique, device, tech_ev = _technique(level, items)
    approach, appr_ev = _approach(items)
    side, side_ev = _side(items) if approach == "unilateral" else (None, [])
    cement, cement_ev = _cement(items)
    volume, vol_ev = _volume(note, items, single, approach)
    biopsy_pos = [a for a in _pos(items, {"BIOPSY"}) if a.rank >= RANK_GROUP and a.mention.section in BIOPSY_SECTIONS]
    evidence = [_ev(m, "LEVEL") for m in candidates]
    for label, group in (("TECHNIQUE", tech_ev), ("APPROACH", appr_ev), ("SIDE", side_ev),
                         ("CEMENT", cement_ev), ("VOLUME", vol_ev), ("BIOPSY", biopsy_pos[:2])):
        evidence += [_ev(a.mention, label) for a in group[:3]]
    if not tech_ev and fill:
        evidence += [_ev(a.mention, "FILL") for a in fill[:2]]
    return LevelFacts(
        level=level,
        technique=technique,
        approach=approach,
        side=side,
        cavity_device=device if technique != "vertebroplasty" else None,
        cement=cement,
        cement_volume_ml=volume,
        biopsy=bool(biopsy_pos),
        guidance=_guidance(items, imaging),
        evidence=_dedupe(evidence),
    )


def _dedupe(evidence: list[Evidence]) -> list[Evidence]:
    seen, out = set(), []
    for e in sorted(evidence, key=lambda e: (e.start, e.end, e.label)):
        if (e.start, e.end, e.label) not in seen:
            seen.add((e.start, e.end, e.label))
            out.append(e)
    return out


def _biopsy_only(note: _Note, treated: set[str], imaging: list[str]) -> list[BiopsyLevel]:
    out = []
    for level in sorted(note.level_mentions, key=level_index):
        if level in treated or level == "sacrum":
            continue
        pos = [a for a in _pos(note.by_level[level], {"BIOPSY"})
               if a.rank >= RANK_GROUP and a.mention.section in BIOPSY_SECTIONS]
        if not pos:
            continue
        if not any(m.section in BIOPSY_SECTIONS and not (m.modifiers & NOT_SUBJECT)
                   for m in note.level_mentions[level]):
            continue
        out.append(BiopsyLevel(level, _guidance(note.by_level[level], imaging), [_ev(pos[0].mention, "BIOPSY")]))
    return out


def _biopsy_scope(note: _Note, treated: list[LevelFacts], biopsy_only: list[BiopsyLevel]) -> None:
    """A biopsy stated without a level belongs to the only treated level, else it needs a coder."""
    unplaced = [a for a in note.to_all if a.mention.label == "BIOPSY" and positive(a.mention)
                and a.mention.section in BIOPSY_SECTIONS]
    if not unplaced or any(p.biopsy for p in treated) or biopsy_only:
        return
    if len(treated) == 1:
        treated[0].biopsy = True
        treated[0].evidence = _dedupe(treated[0].evidence + [_ev(unplaced[0].mention, "BIOPSY")])
    elif treated:
        note.concern("a biopsy is documented but the level it came from is not stated", review=True)
