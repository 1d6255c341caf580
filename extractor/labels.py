"""The label vocabulary of the rule files, as enums: target cues, ConText modifiers, section categories.

Each enum lists exactly the categories of one file of patterns/ (tests/test_labels.py checks both
ways), so a misspelt label is an AttributeError instead of a silent mismatch. Members are `str`, and
hash like their value, so `mention.label in {Cue.BIOPSY}` works on the plain strings spaCy gives.
"""

from __future__ import annotations

import json
from enum import Enum
from functools import lru_cache
from importlib.resources import files


class Label(str, Enum):
    """A str enum whose members compare and hash as their value."""

    # a member's str content is its value: str's own methods give the value's string and hash without the
    # (slow, often called) Enum `.value` lookup
    def __str__(self) -> str:
        return str.__str__(self)

    def __hash__(self) -> int:
        return str.__hash__(self)


class Cue(Label):
    """Target categories (patterns/targets.json); pipe-table cells reuse them."""

    LEVEL = "LEVEL"
    ALL_LEVELS = "ALL_LEVELS"  # "at each level"
    SESSION = "SESSION"  # the procedure as a whole ("the procedure was stopped")
    PROC_VP = "PROC_VP"
    PROC_AUG = "PROC_AUG"
    PROC_SACRO = "PROC_SACRO"
    CONVERT_VP = "CONVERT_VP"  # converted to direct cement injection
    FILL_VERB = "FILL_VERB"
    CEMENT_PMMA = "CEMENT_PMMA"
    CEMENT_GRAFT = "CEMENT_GRAFT"
    CEMENT_SUBST = "CEMENT_SUBST"
    CEMENT_GENERIC = "CEMENT_GENERIC"
    VOLUME = "VOLUME"
    CAVITY_BALLOON = "CAVITY_BALLOON"
    CAVITY_MECH = "CAVITY_MECH"
    CAVITY_ANY = "CAVITY_ANY"
    INFLATE = "INFLATE"
    NEEDLE = "NEEDLE"
    APPROACH_BI = "APPROACH_BI"
    APPROACH_UNI = "APPROACH_UNI"
    SIDE = "SIDE"
    BIOPSY = "BIOPSY"
    IMAGING_CT = "IMAGING_CT"
    IMAGING_FLUORO = "IMAGING_FLUORO"
    OUT_OF_SCOPE = "OUT_OF_SCOPE"


class Modifier(Label):
    """ConText categories (patterns/context.json)."""

    NEGATED_EXISTENCE = "NEGATED_EXISTENCE"
    NOT_TREATED = "NOT_TREATED"
    HISTORICAL = "HISTORICAL"
    HYPOTHETICAL = "HYPOTHETICAL"
    ABORTED = "ABORTED"
    FINDING = "FINDING"
    REFERENCE = "REFERENCE"
    CORRECTED = "CORRECTED"
    TERMINATE = "TERMINATE"  # ends a modifier's scope; never on a mention
    CLAUSE_END = "CLAUSE_END"  # ends the scope of the rules that name it in terminated_by; never on a mention


class Section(Label):
    """Section categories (patterns/sections.json); text before any heading has section None."""

    PROCEDURE_TITLE = "procedure_title"
    TECHNIQUE = "technique"
    IMPRESSION = "impression"
    ADDENDUM = "addendum"
    IMPLANTS = "implants"
    SPECIMENS = "specimens"
    COMPLICATIONS = "complications"
    FINDINGS = "findings"
    HISTORY = "history"
    COMPARISON = "comparison"
    PLAN = "plan"
    PLANNED = "planned"
    DIAGNOSIS = "diagnosis"
    ASSESSMENT = "assessment"
    OTHER = "other"


def _rules(name: str, key: str) -> list[dict]:
    return json.loads((files("extractor.patterns") / name).read_text(encoding="utf-8"))[key]


@lru_cache(maxsize=1)
def cue_kinds() -> dict[str, str]:
    """Each target category's competition group (`metadata.kind` of its rules): cues of one kind
    compete for a level, e.g. APPROACH_BI and APPROACH_UNI are both `approach`."""
    kinds = {rule["category"]: rule.get("metadata", {}).get("kind") for rule in _rules("targets.json", "target_rules")}
    kinds.setdefault(Cue.LEVEL.value, "level")  # LEVEL rules may be generated from levels.json
    return kinds


def cue_kind(label: str) -> str:
    """The competition group of a cue; a category without rules (none today) is its own group."""
    return cue_kinds().get(label) or label.lower()
