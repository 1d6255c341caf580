"""One treated level's record: every attribute decided from its attachments, with the words behind it."""

from __future__ import annotations

from ..facts import LevelFacts
from ..mentions import Mention
from .approach import decide_approach, decide_side
from .biopsy import BIOPSY_EVIDENCE, biopsy_cues
from .filler import decide_cement, decide_volume, note_cement
from .guidance import decide_guidance
from .note_index import Attachment, NoteIndex, as_evidence, dedupe_evidence
from .technique import decide_technique

EVIDENCE_PER_ATTRIBUTE = 3  # the most a record quotes for one attribute
FILL_EVIDENCE = 2  # fill cues quoted when the technique rests on no cue of its own


def level_facts(index: NoteIndex, level: str, candidates: list[Mention], attachments: list[Attachment],
                fill: list[Attachment], imaging: list[str], single: bool) -> LevelFacts:
    technique, device, technique_cues = decide_technique(level, attachments, index)
    approach, approach_cues = decide_approach(attachments)
    side, side_cues = decide_side(attachments) if approach == "unilateral" else (None, [])
    cement, cement_cues = decide_cement(attachments)
    if cement is None:
        cement, cement_cues = note_cement(index, attachments)
    volume, volume_cues = decide_volume(index, attachments, single, approach)
    biopsy = biopsy_cues(attachments)
    evidence = [as_evidence(m, "LEVEL") for m in candidates]
    for label, cues in (("TECHNIQUE", technique_cues), ("APPROACH", approach_cues), ("SIDE", side_cues),
                        ("CEMENT", cement_cues), ("VOLUME", volume_cues), ("BIOPSY", biopsy[:BIOPSY_EVIDENCE])):
        evidence += [as_evidence(a.mention, label) for a in cues[:EVIDENCE_PER_ATTRIBUTE]]
    if not technique_cues and fill:
        evidence += [as_evidence(a.mention, "FILL") for a in fill[:FILL_EVIDENCE]]
    return LevelFacts(
        level=level,
        technique=technique,
        approach=approach,
        side=side,
        cavity_device=device if technique != "vertebroplasty" else None,
        cement=cement,
        cement_volume_ml=volume,
        biopsy=bool(biopsy),
        guidance=decide_guidance(attachments, imaging),
        evidence=dedupe_evidence(evidence),
    )

