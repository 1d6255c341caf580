"""Build the spaCy/medspaCy pipeline, once per process.

spacy.blank("en") with a tokenizer that splits level notations (T12-L1, T-12, L1/L2), then:
medspaCy Sectionizer (our heading rules; components/sectionizer.py) → clinical sentence rules → medspaCy TargetMatcher (levels
and attribute cues) → medspaCy ConText (negated, historical, planned, aborted, finding, reference).
All rules are read from the JSON files in `patterns/` (shipped as `extractor.patterns`).
"""

from __future__ import annotations

import sys
import types
import warnings
from collections.abc import Callable
from functools import lru_cache
from importlib.resources import as_file, files
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex, registry

from .doc_text import TextKeepingTokenizer

# the TargetMatcher keeps an empty PhraseMatcher (all our rules are regex or token patterns)
warnings.filterwarnings("ignore", message=r"\[W036\]")

PATTERN_FILES = {"sections": "sections.json", "targets": "targets.json", "context": "context.json"}


def _import_medspacy() -> None:
    """Import medspaCy's components without its QuickUMLS import chain.

    medspacy/util.py imports quickumls (→ nltk → scipy.stats, ≈ 1 s) at import time although we never
    use QuickUMLS. A placeholder module stands in for it only if it has not been imported yet.
    """
    if "quickumls" not in sys.modules:
        placeholder = types.ModuleType("quickumls")
        placeholder.spacy_component = types.ModuleType("quickumls.spacy_component")
        sys.modules["quickumls"] = placeholder
        sys.modules["quickumls.spacy_component"] = placeholder.spacy_component
        try:
            import medspacy
        finally:
            del sys.modules["quickumls"]
            del sys.modules["quickumls.spacy_component"]
    else:  # pragma: no cover
        import medspacy  # noqa: F401


def pattern_path(name: str) -> Path:
    """Filesystem path of one rule file of patterns/."""
    with as_file(files("extractor.patterns") / PATTERN_FILES[name]) as path:
        return Path(path)


# level notations the default English infixes keep whole
EXTRA_INFIXES = [
    r"(?<=[A-Za-z])-(?=[0-9])",  # T-12 → T - 12
    r"(?<=[0-9A-Za-z])/(?=[0-9A-Za-z])",  # T12/L1
    r"(?<=[0-9])-(?=[A-Za-z])",  # T12-L1
    r"(?<=[0-9])(?=(?:ml|mL|cc)\b)",  # 4.5mL
    r"(?<=[0-9])[,;](?=[A-Za-z])",
]


@registry.tokenizers("spinecode.ClinicalTokenizer.v1")
def create_clinical_tokenizer() -> Callable[[Language], TextKeepingTokenizer]:
    """spaCy's default tokenizer (spacy.Tokenizer.v1) with EXTRA_INFIXES, built once: setting
    `infix_finditer` afterwards would load the ≈ 2,700 special cases a second time (≈ 0.1 s)."""

    def tokenizer_factory(nlp: Language) -> TextKeepingTokenizer:
        defaults = nlp.Defaults
        return TextKeepingTokenizer(
            Tokenizer(
                nlp.vocab,
                rules=defaults.tokenizer_exceptions,
                prefix_search=compile_prefix_regex(defaults.prefixes).search if defaults.prefixes else None,
                suffix_search=compile_suffix_regex(defaults.suffixes).search if defaults.suffixes else None,
                infix_finditer=compile_infix_regex(list(defaults.infixes or ()) + EXTRA_INFIXES).finditer,
                token_match=defaults.token_match,
                url_match=defaults.url_match,
            )
        )

    return tokenizer_factory


def build_pipeline() -> Language:
    """A new pipeline; prefer `get_pipeline()` which builds it once per process."""
    _import_medspacy()
    from . import components  # noqa: F401  (registers spinecode factories; needs medspaCy)
    from .components import fast_context, fast_regex

    fast_regex.install()
    fast_context.install()

    nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": "spinecode.ClinicalTokenizer.v1"}}})
    nlp.add_pipe(
        "spinecode_sectionizer",
        config={"rules": str(pattern_path("sections")), "phrase_matcher_attr": "LOWER"},
    )
    nlp.add_pipe("spinecode_sentences")
    nlp.add_pipe("spinecode_targets", config={"rules": str(pattern_path("targets"))})
    nlp.add_pipe("medspacy_context", config={"rules": str(pattern_path("context"))})
    return nlp


@lru_cache(maxsize=1)
def get_pipeline() -> Language:
    """The process-wide pipeline (built on first use, then shared)."""
    return build_pipeline()
