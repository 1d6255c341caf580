"""Target rules (levels and attribute cues) through medspaCy's TargetMatcher.

medspaCy 1.3.1's `medspacy_target_matcher` factory cannot load `rules=` from its config (it adds
rules before its matcher exists), so this component builds the TargetMatcher, injects the fast regex
matcher and adds the rules (their level-grammar pieces filled in by resources.read_rule_dicts).
"""

from __future__ import annotations

from medspacy.target_matcher import TargetMatcher, TargetRule
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import filter_spans

from ..medspacy_patches import doc_codecs  # noqa: F401  (a Doc with target rules can cross processes)
from ..medspacy_patches.regex_matcher import fast_medspacy_matcher
from ..resources import read_rule_dicts, read_saved_rules, write_rules

RULES_KEY = "target_rules"


class SpinecodeTargets:
    def __init__(self, nlp: Language, name: str, rules: str):
        self.nlp = nlp
        self.name = name
        self.set_rules(read_rule_dicts(rules, RULES_KEY))

    def set_rules(self, rule_dicts: list[dict]) -> None:
        """Replace every rule."""
        expanded = [TargetRule.from_dict(rule) for rule in rule_dicts]
        # result_type=None: the stock component adds each span with `doc.ents += (span,)`, which is
        # quadratic in the number of matches; we set all entities at once
        matcher = TargetMatcher(self.nlp, name=self.name, rules=None, result_type=None, prune=True)
        matcher._TargetMatcher__matcher = fast_medspacy_matcher(self.nlp, self.name, prune=True)
        matcher.add(expanded)
        self.matcher = matcher

    @property
    def rules(self) -> list[TargetRule]:
        return self.matcher.rules

    def __call__(self, doc: Doc) -> Doc:
        doc.ents = filter_spans(list(doc.ents) + self.matcher(doc))
        return doc

    def to_disk(self, path, exclude=()) -> None:
        write_rules(path, RULES_KEY, self.rules)

    def from_disk(self, path, exclude=()) -> SpinecodeTargets:
        self.set_rules(read_saved_rules(path, RULES_KEY))
        return self
