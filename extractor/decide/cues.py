"""Groups of cues and modifiers the decisions speak of, and what a modifier does to a cue."""

from __future__ import annotations

from ..labels import Cue, Modifier
from ..mentions import Mention

# modifiers that say "this was not done"
NEGATING = frozenset({Modifier.NEGATED_EXISTENCE, Modifier.NOT_TREATED})
# a cue with any of these does not state something done now
NOT_POSITIVE = NEGATING | {
    Modifier.HISTORICAL, Modifier.HYPOTHETICAL, Modifier.ABORTED, Modifier.FINDING, Modifier.REFERENCE,
    Modifier.CORRECTED,
}
# a level with any of these is not the subject of its sentence ("prior T12 kyphoplasty")
NOT_SUBJECT = frozenset({Modifier.HISTORICAL, Modifier.HYPOTHETICAL, Modifier.REFERENCE, Modifier.FINDING})
STOPPED = NEGATING | {Modifier.ABORTED}

CEMENT_TYPES = {Cue.CEMENT_PMMA: "pmma", Cue.CEMENT_GRAFT: "bone_graft", Cue.CEMENT_SUBST: "bone_substitute"}
FILL = frozenset({Cue.FILL_VERB, Cue.CEMENT_GENERIC, *CEMENT_TYPES})
PROC = frozenset({Cue.PROC_VP, Cue.PROC_AUG, Cue.PROC_SACRO})
TREAT = FILL | PROC | {Cue.CONVERT_VP}
# cues whose negation means "nothing was delivered" ("no cement was injected", "vertebroplasty not performed")
DELIVERY_NAMES = PROC | {Cue.FILL_VERB}
CAVITY = frozenset({Cue.CAVITY_BALLOON, Cue.CAVITY_MECH, Cue.CAVITY_ANY, Cue.INFLATE})
IMAGING = frozenset({Cue.IMAGING_CT, Cue.IMAGING_FLUORO})
APPROACH = frozenset({Cue.APPROACH_BI, Cue.APPROACH_UNI})
# cues that do not separate two level mentions into two groups ("T11 and T12 needles")
NON_SEPARATING = frozenset({Cue.LEVEL, Cue.NEEDLE, Cue.SESSION})


def is_positive(m: Mention) -> bool:
    """The cue states something done in this session (no negation, history, plan, abort, ...)."""
    return not (m.modifiers & NOT_POSITIVE)


def is_negated(m: Mention) -> bool:
    """The cue is denied ("no cement", "not treated"); a hypothetical denial does not count."""
    return bool(m.modifiers & NEGATING) and Modifier.HYPOTHETICAL not in m.modifiers
