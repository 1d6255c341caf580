"""msgpack codecs so that a Doc our pipeline made survives `Doc.to_bytes` / `from_bytes`, which is how
spaCy's `nlp.pipe(n_process=2)` returns docs from its workers (it failed with E871 before).

medspaCy 1.3.1 registers codecs for its objects, but they do not round-trip: target rules have none,
a modifier is written without the key its decoder looks for (it comes back a dict), and a ConText
graph is written as its `__dict__`, which holds Spans. srsly calls the codec registered last first, so
these, registered after medspaCy's, see the objects before them:

- a TargetRule (`span._.target_rule`, read by `span._.literal`) as its rule dict;
- a ConTextModifier (`span._.modifiers`) as medspaCy's own serialized form, under our key;
- a Section (`doc._.sections`, `token._.section`) as medspaCy's form, also when it has no rule (the
  text before the first heading), which medspaCy's decoder cannot read back;
- the ConText graph (`doc._.context_graph`) as None: its targets are Spans of the worker's Doc; what
  it records for each target is in that target's `span._.modifiers`, which does round-trip.
"""

from __future__ import annotations

import srsly
from medspacy.context.context_graph import ConTextGraph
from medspacy.context.context_modifier import ConTextModifier
from medspacy.section_detection.section import Section
from medspacy.section_detection.section_rule import SectionRule
from medspacy.target_matcher import TargetRule

RULE_KEY = "spinecode_target_rule"
MODIFIER_KEY = "spinecode_context_modifier"
GRAPH_KEY = "spinecode_context_graph"
SECTION_KEY = "spinecode_section"


def _chained(obj, chain):
    return obj if chain is None else chain(obj)


@srsly.msgpack_encoders("spinecode_medspacy_objects")
def encode(obj, chain=None):
    if isinstance(obj, TargetRule):
        return {RULE_KEY: obj.to_dict()}
    if isinstance(obj, ConTextModifier):
        return {MODIFIER_KEY: obj.serialized_representation()}
    if isinstance(obj, Section):
        return {SECTION_KEY: obj.serialized_representation()}
    if isinstance(obj, ConTextGraph):
        return {GRAPH_KEY: None}
    return _chained(obj, chain)


@srsly.msgpack_decoders("spinecode_medspacy_objects")
def decode(obj, chain=None):
    if isinstance(obj, dict) and len(obj) == 1:
        if RULE_KEY in obj:
            return TargetRule.from_dict(obj[RULE_KEY])
        if MODIFIER_KEY in obj:
            return ConTextModifier.from_serialized_representation(obj[MODIFIER_KEY])
        if SECTION_KEY in obj:
            return _section(obj[SECTION_KEY])
        if GRAPH_KEY in obj:
            return None
    return _chained(obj, chain)


def _section(data: dict) -> Section:
    rule = data.pop("rule")
    section = Section(**data)
    section.rule = SectionRule.from_dict(rule) if rule is not None else None
    return section
