"""Target rules (levels and attribute cues) from patterns/targets.json via medspaCy's TargetMatcher.

medspaCy 1.3.1's `medspacy_target_matcher` factory cannot load `rules=` from its config (it adds
rules before its matcher exists), so this factory builds the TargetMatcher and adds the rules.
"""

from medspacy.target_matcher import TargetMatcher, TargetRule
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import filter_spans


@Language.factory("spinecode_targets", default_config={"rules": ""})
class SpinecodeTargets:
    def __init__(self, nlp: Language, name: str, rules: str):
        self.name = name
        self.rules_path = rules
        # result_type=None: the stock component adds each span with `doc.ents += (span,)`, which is
        # quadratic in the number of matches; we set all entities at once
        self.matcher = TargetMatcher(nlp, name=name, rules=None, result_type=None, prune=True)
        self.matcher.add(TargetRule.from_json(rules))

    def __call__(self, doc: Doc) -> Doc:
        doc.ents = filter_spans(list(doc.ents) + self.matcher(doc))
        return doc
