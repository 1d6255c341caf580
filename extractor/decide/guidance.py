"""The imaging that guided one level: CT-guided needle placement counts as CT even when the cement
was watched under fluoroscopy; without a cue at the level, the session's imaging decides."""

from __future__ import annotations

from ..labels import Cue
from .cues import IMAGING
from .note_index import Attachment, Rank, positive_cues
from .section_roles import IMAGING_SECTIONS


def decide_guidance(attachments: list[Attachment], imaging: list[str]) -> str | None:
    """ct | fluoroscopy | None. imaging: the session's modalities, sorted."""
    cues = [a for a in positive_cues(attachments, IMAGING) if a.mention.section in IMAGING_SECTIONS]
    for pool in ([a for a in cues if a.rank >= Rank.GROUP], cues):
        labels = {a.mention.label for a in pool}
        if Cue.IMAGING_CT in labels:
            return "ct"
        if Cue.IMAGING_FLUORO in labels:
            return "fluoroscopy"
    if imaging == ["ct"]:
        return "ct"
    if "fluoroscopy" in imaging:
        return "fluoroscopy"
    return imaging[0] if imaging else None
