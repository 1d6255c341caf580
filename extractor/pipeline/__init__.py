"""The spaCy pipeline: spacy.blank("en") with the clinical tokenizer, then one pipe per folder:

    sections/   spinecode_sectionizer  medspaCy Sectionizer, heading rules patterns/sections.json
    sentences/  spinecode_sentences    clinical sentence starts (headings, list items, level labels)
    targets/    spinecode_targets      medspaCy TargetMatcher: levels (extractor/levels.py grammar) and cues,
                                       patterns/targets.json
    context/    spinecode_context      medspaCy ConText: negated, historical, planned, aborted, finding, ...,
                                       patterns/context.json

Each folder has factory.py (registers the pipe, typed default config; also an entry point in
pyproject.toml) and the component; rules load by resource name ("spinecode:targets") and are saved by
`nlp.to_disk` and read back by `spacy.load` (resources.py). medspacy_patches/ holds the faster
stand-ins the components inject (its README says what each replaces and which test guards it).
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import spacy
from spacy.language import Language

# registering the factories and the tokenizer (entry points do it too, once spinecode is installed)
from .context import factory as _context_factory  # noqa: F401
from .sections import factory as _sections_factory  # noqa: F401
from .sentences import factory as _sentences_factory  # noqa: F401
from .targets import factory as _targets_factory  # noqa: F401
from .tokenizer import create_clinical_tokenizer  # noqa: F401

# the TargetMatcher keeps an empty PhraseMatcher (all our rules are regex or token patterns)
warnings.filterwarnings("ignore", message=r"\[W036\]")

PIPES = ("spinecode_sectionizer", "spinecode_sentences", "spinecode_targets", "spinecode_context")
TOKENIZER = "spinecode.ClinicalTokenizer.v1"


def build_pipeline() -> Language:
    """A new pipeline with every pipe's default config; prefer `get_pipeline()` (built once per process)."""
    nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": TOKENIZER}}})
    for pipe in PIPES:
        nlp.add_pipe(pipe)
    return nlp


@lru_cache(maxsize=1)
def get_pipeline() -> Language:
    """The process-wide pipeline (built on first use, then shared)."""
    return build_pipeline()
