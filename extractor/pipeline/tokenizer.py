"""The clinical tokenizer: spaCy's English rules with infixes that split level notations.

Registered as `spinecode.ClinicalTokenizer.v1` (also an entry point, so `spacy.load` of a saved
pipeline finds it in a fresh process). The tokenizer it makes keeps each note's text for `doc_text`.
"""

from __future__ import annotations

from collections.abc import Callable

from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex, registry

from .doc_text import TextKeepingTokenizer

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
