"""The decision layer: mentions → NoteFacts, plain Python (no spaCy).

Modules, in the order the orchestrator (assemble.py) runs them:
pipe_tables (table cells become cues) → corrections (addendum renames a level) → attachment (which
level each cue speaks about, with a rank) → treated (which levels were treated, stops, not-treated
reasons) → technique, approach (and side), filler (material and volume), guidance, biopsy → level_facts
(one level's record with its evidence). note_index holds the working state; cues, section_roles and
lexicon (patterns/lexicons.json) the vocabulary they share.
"""

from .assemble import facts_from_sentences

__all__ = ["facts_from_sentences"]
