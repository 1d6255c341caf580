"""`spinecode_sectionizer`: medspaCy's Sectionizer with our heading rules (patterns/sections.json)."""

from spacy.language import Language

DEFAULT_CONFIG = {"rules": "spinecode:sections", "phrase_matcher_attr": "LOWER", "max_section_length": None}


@Language.factory("spinecode_sectionizer", default_config=DEFAULT_CONFIG)
def create_sectionizer(nlp: Language, name: str, rules: str, phrase_matcher_attr: str, max_section_length: int | None):
    from ..medspacy_patches.import_guard import import_medspacy

    import_medspacy()
    from .sectionizer import SpinecodeSectionizer

    return SpinecodeSectionizer(
        nlp, name=name, rules=rules, phrase_matcher_attr=phrase_matcher_attr, max_section_length=max_section_length
    )
