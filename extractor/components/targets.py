"""Target rules (levels and attribute cues) from patterns/targets.json via medspaCy's TargetMatcher.

medspaCy 1.3.1's `medspacy_target_matcher` factory cannot load `rules=` from its config (it adds
rules before its matcher exists), so this factory builds the TargetMatcher and adds the rules.
"""

from medspacy.target_matcher import TargetMatcher, TargetRule
from spacy.language import Language
from spacy.tokens import Doc


@Language.factory("spinecode_targets", default_config={"rules": ""})
class SpinecodeTargets:
    def __init__(self, nlp: Language, name: str, rules: str):
        self.name = name
        self.rules_path = rules
        self.matcher = TargetMatcher(nlp, name=name, rules=None, result_type="ents", prune=True)
        self.matcher.add(TargetRule.from_json(rules))

    def __call__(self, doc: Doc) -> Doc:
        return self.matcher(doc)
