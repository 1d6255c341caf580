"""medspaCy's ConText with our modifier rules (patterns/context.json), built on the fast regex matcher
and the fast ConText graph (medspacy_patches/), so medspaCy's own modules stay as they are.

`__call__` is the stock one (medspaCy 1.3.1 ConText.__call__) with FastConTextGraph in place of
ConTextGraph; `tests/pipeline/test_context_graph.py` checks the two give the same modifiers.
"""

from __future__ import annotations

from bisect import bisect_right

from medspacy.context import ConText
from medspacy.context.context_modifier import ConTextModifier
from medspacy.context.context_rule import ConTextRule
from spacy.attrs import SENT_START
from spacy.tokens import Doc

from ..medspacy_patches import doc_codecs  # noqa: F401  (a Doc with modifiers can cross processes)
from ..medspacy_patches.context_graph import CLAUSE_END, FastConTextGraph
from ..medspacy_patches.regex_matcher import fast_medspacy_matcher
from ..resources import read_rule_dicts, read_saved_rules, write_rules

RULES_KEY = "context_rules"


def rule_from_dict(data: dict) -> ConTextRule:
    """ConTextRule.from_dict, plus `terminated_by` (a constructor argument medspaCy 1.3.1's from_dict and
    to_dict leave out): the modifier categories that end this rule's scope."""
    data = dict(data)
    terminated_by = data.pop("terminated_by", None)
    rule = ConTextRule.from_dict(data)
    if terminated_by:
        rule.terminated_by = {category.upper() for category in terminated_by}
    return rule


class _SavedRule:
    """A rule as written by to_disk: to_dict with `terminated_by` when it has one (sorted: stable bytes)."""

    def __init__(self, rule: ConTextRule):
        self.rule = rule

    def to_dict(self) -> dict:
        data = self.rule.to_dict()
        if self.rule.terminated_by:
            data["terminated_by"] = sorted(self.rule.terminated_by)
        return data


class SpinecodeContext(ConText):
    graph_class = FastConTextGraph

    def __init__(self, nlp, name: str = "spinecode_context", rules: str | None = "spinecode:context",
                 phrase_matcher_attr: str = "LOWER", **options):
        super().__init__(nlp, name=name, rules=None, phrase_matcher_attr=phrase_matcher_attr, **options)
        self.phrase_matcher_attr = phrase_matcher_attr
        self.set_rules(read_rule_dicts(rules, RULES_KEY))

    def set_rules(self, rule_dicts: list[dict]) -> None:
        """Replace every rule."""
        self._ConText__matcher = fast_medspacy_matcher(
            self.nlp, self.name, self.phrase_matcher_attr, prune=self.prune_on_modifier_overlap
        )
        self.add([rule_from_dict(rule) for rule in rule_dicts])

    def to_disk(self, path, exclude=()) -> None:
        write_rules(path, RULES_KEY, [_SavedRule(rule) for rule in self.rules])

    def from_disk(self, path, exclude=()) -> SpinecodeContext:
        self.set_rules(read_saved_rules(path, RULES_KEY))
        return self

    def __call__(self, doc: Doc, targets: str | None = None) -> Doc:
        if not targets and self.input_span_type == "ents":
            targets = doc.ents
        elif not targets and self.input_span_type == "group":
            targets = doc.spans[self.span_group_name]
        elif targets:
            targets = getattr(doc._, targets)
        graph = self.graph_class(prune_on_modifier_overlap=self.prune_on_target_overlap)
        graph.targets = targets
        graph.modifiers = []
        matcher = self._ConText__matcher
        matches = [(matcher.rule_map[self.nlp.vocab[match_id].text], start, end) for match_id, start, end in matcher(doc)]
        for rule, start, end in _without_idle_scope_ends(doc, matches, self.max_scope):
            graph.modifiers.append(ConTextModifier(rule, start, end, doc, max_scope=self.max_scope))
        graph.update_scopes()
        graph.apply_modifiers()
        for target, modifier in graph.edges:
            target._.modifiers += (modifier,)
        if self.context_attributes_mapping:
            self.set_context_attributes(graph.edges)
        doc._.context_graph = graph
        return doc


def _ends_scopes(rule: ConTextRule) -> bool:
    """A rule that only ends other rules' scopes: it modifies no target (TERMINATE, and the CLAUSE_END pseudo)."""
    return rule.direction.upper() == "TERMINATE" or rule.category.upper() == CLAUSE_END


def _without_idle_scope_ends(doc: Doc, matches: list[tuple], max_scope: int | None) -> list[tuple]:
    """The matches, less the scope ends of sentences where no other modifier starts or ends (most commas).

    Without a ConText-wide max_scope every scope lies inside the sentence of its modifier's first token, so
    a scope end can only limit a modifier of its own sentence: elsewhere it changes no scope and, modifying
    no target, no edge (tests/pipeline/test_context_graph.py compares with the stock graph). Building it
    is most of ConText's time on a note of many commas.
    """
    if max_scope or not any(_ends_scopes(rule) for rule, _, _ in matches):
        return matches
    starts = [i for i, flag in enumerate(doc.to_array([SENT_START]).tolist()) if flag == 1]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)

    def sentence(i: int) -> int:
        return bisect_right(starts, i) - 1

    busy = set()
    for rule, start, end in matches:
        if not _ends_scopes(rule):
            busy.update((sentence(start), sentence(max(start, end - 1))))
    return [m for m in matches if not _ends_scopes(m[0]) or sentence(m[1]) in busy]
