"""Percutaneous tumor ablation of this session (coding-rules 0): a positive tumor-ablation cue in a
section about this session, in a note that treats or biopsies a body. It goes to additional_codes
(20982 radiofrequency, 20983 cryoablation), not to other_procedures. An ablation in a note that
treats and biopsies nothing stays an out-of-scope procedure (warning, review).
"""

from __future__ import annotations

from ..facts import Evidence, TumorAblation
from ..labels import Cue
from ..lexicon import lexicon
from ..mentions import Mention
from .cues import is_positive
from .section_roles import NOT_NOW_SECTIONS

# the literal of the tumor-ablation rule of patterns/targets.json (label OUT_OF_SCOPE)
ABLATION_LITERAL = "tumor ablation"


def is_ablation_of_session(m: Mention) -> bool:
    return (m.label == Cue.OUT_OF_SCOPE and m.literal == ABLATION_LITERAL and is_positive(m)
            and m.section not in NOT_NOW_SECTIONS)


def session_ablation(mentions: list[Mention], bodies_treated_or_biopsied: bool) -> TumorAblation | None:
    found = [m for m in mentions if is_ablation_of_session(m)]
    if not found or not bodies_treated_or_biopsied:
        return None
    words = lexicon()
    if any(words.regex("ablation_cryo").search(m.text) for m in found):
        kind = "cryoablation"
    elif any(words.regex("ablation_radiofrequency").search(m.text) for m in found):
        kind = "radiofrequency"
    else:
        kind = "other"  # "microwave ablation", or "tumor ablation" with no energy named
    evidence = [Evidence(m.start, m.end, m.text, "ABLATION", m.section) for m in found]
    return TumorAblation(kind, evidence)
