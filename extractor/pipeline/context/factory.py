"""`spinecode_context`: ConText modifiers (negated, historical, planned, aborted, ...) on the targets."""

from spacy.language import Language

DEFAULT_CONFIG = {
    "rules": "spinecode:context",
    "phrase_matcher_attr": "LOWER",
    "max_scope": None,
    "max_targets": None,
    "prune_on_modifier_overlap": True,
    "prune_on_target_overlap": False,
}


@Language.factory("spinecode_context", default_config=DEFAULT_CONFIG)
def create_context(
    nlp: Language,
    name: str,
    rules: str,
    phrase_matcher_attr: str,
    max_scope: int | None,
    max_targets: int | None,
    prune_on_modifier_overlap: bool,
    prune_on_target_overlap: bool,
):
    from ..medspacy_patches.import_guard import import_medspacy

    import_medspacy()
    from .context import SpinecodeContext

    return SpinecodeContext(
        nlp, name=name, rules=rules, phrase_matcher_attr=phrase_matcher_attr, max_scope=max_scope,
        max_targets=max_targets, prune_on_modifier_overlap=prune_on_modifier_overlap,
        prune_on_target_overlap=prune_on_target_overlap,
    )
