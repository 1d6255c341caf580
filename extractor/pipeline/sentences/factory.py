"""`spinecode_sentences`: sentence starts for clinical notes (headings, list items, level labels)."""

from spacy.language import Language


@Language.factory("spinecode_sentences")
def create_sentences(nlp: Language, name: str):
    from .sentences import ClinicalSentences

    return ClinicalSentences(nlp, name)
