"""The relevance gate: a note with no cue that could change its record skips the spaCy pipeline.

The cue classes are the entries of patterns/gate.json (what each stands for, and why the others need no
class, is written there). A note none of them finds gets no target mention that matters (each class is a
superset of the rules it stands for), so its facts are the facts of a note without mentions: its document
type, date of service and age are read from the text, which the pipeline does too. `facts_without_doc`
builds them through the same decision code, with the whole note as one sentence.

One fact is read sentence by sentence: the age. The whole note as one sentence reads the same first age
as the sentences do unless the age expression spans a line break (a sentence can end there) or an empty
template box '[ ]' is blanked (per sentence, its blank stops at the sentence's end): such a note opens the
gate. Sentences never split inside a run of word characters, so a word boundary reads alike in both.
"""

from __future__ import annotations

import os
from functools import lru_cache

from .decide import facts_from_sentences
from .decide.sedation import unchecked_options_blanked
from .facts import NoteFacts
from .lexicon import lexicon
from .mentions import Sentence
from .text import normalize

GATE_ENV = "SPINECODE_GATE"  # "0": every note goes through the pipeline (Extractor(gate=None) reads it)
AS_GIVEN = "as given"  # a class's "text": the note as given; else the normalised note the target rules read
# the entries of patterns/gate.json, named in full (the lexicon test checks that the code reads every entry;
# tests/test_gate.py that this is the file's list)
CUE_CLASSES = ("level", "in_scope_procedure", "needle", "other_procedure", "sedation", "filler")


def gate_enabled(gate: bool | None = None) -> bool:
    """The caller's choice, else the environment's (on unless SPINECODE_GATE=0)."""
    return os.environ.get(GATE_ENV, "1").strip() != "0" if gate is None else bool(gate)


@lru_cache(maxsize=1)
def cue_classes() -> dict[str, tuple]:
    """name -> (compiled regex, reads the note as given), in file order."""
    rules = lexicon("gate")
    return {name: (rules.regex(name), rules.entries[name].get("text") == AS_GIVEN) for name in CUE_CLASSES}


def _found(text: str, normalised: str | None = None):
    """The names of the cue classes found in the note (text: as given; normalised: its normal form, when the
    caller has it), in file order, lazily."""
    normalised = normalize(text) if normalised is None else normalised
    return (name for name, (regex, as_given) in cue_classes().items() if regex.search(text if as_given else normalised))


def opening_cues(text: str) -> list[str]:
    """The cue classes found in the note (text: as given), in file order."""
    return list(_found(text))


def needs_pipeline(text: str, normalised: str | None = None) -> bool:
    """Whether the note must go through the spaCy pipeline (text: as given, not empty; normalised: its
    normal form, `text.normalize(text)`, when the caller has it)."""
    return next(_found(text, normalised), None) is not None or not age_reads_alike(text)


def age_reads_alike(text: str) -> bool:
    """Whether the whole note as one sentence reads the same age as its sentences do (module docstring)."""
    age = lexicon("sedation").regex("age")
    if unchecked_options_blanked(text) != text:
        return age.search(text) is None and age.search(unchecked_options_blanked(text)) is None
    first = age.search(text)
    return first is None or "\n" not in first.group()


def facts_without_doc(text: str) -> NoteFacts:
    """The facts of a note the gate lets pass: the decision code over one sentence with no mention."""
    return facts_from_sentences([Sentence(0, 0, len(text), None, 0, 0)], text, _no_token)


def _no_token(i: int) -> str:
    raise IndexError(i)  # a note without mentions has no link word to look up
