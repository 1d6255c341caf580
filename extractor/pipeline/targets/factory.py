"""`spinecode_targets`: levels and attribute cues (patterns/targets.json) as doc.ents."""

from spacy.language import Language

DEFAULT_CONFIG = {"rules": "spinecode:targets"}


@Language.factory("spinecode_targets", default_config=DEFAULT_CONFIG)
def create_targets(nlp: Language, name: str, rules: str):
    from ..medspacy_patches.import_guard import import_medspacy

    import_medspacy()
    from .targets import SpinecodeTargets

    return SpinecodeTargets(nlp, name, rules)
