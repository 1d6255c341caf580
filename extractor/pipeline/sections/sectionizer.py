"""medspaCy's Sectionizer, with the per-token section written straight into the Doc's extension store.

The stock component ends with `for token in doc[start:end]: token._.section = section`, which builds a
Token and an Underscore object per token (≈ 500 per note, ≈ 1 ms). spaCy keeps a token extension's
value in `doc.user_data` under `("._.", name, token.idx, None)`; writing there gives the same
`token._.section` (and every medspaCy getter built on it). Sections themselves are made by the stock
code path, which this copies for the options spinecode uses (no parent sections, no start/end-line
requirements, no sentence boundaries); any other configuration runs the stock `__call__`.
`tests/pipeline/test_sections.py` compares the two on the corpora.

Rules load by resource name (default "spinecode:sections") and are saved with the pipeline; the
regex matcher inside is the fast one (medspacy_patches/regex_matcher.py).
"""


from typing import Any, Literal

from medspacy.section_detection.section import Section
from medspacy.section_detection.section_rule import SectionRule
from medspacy.section_detection.sectionizer import Sectionizer
from spacy.attrs import IDX
from spacy.language import Language
from spacy.tokens import Doc

from ..medspacy_patches.regex_matcher import fast_medspacy_matcher
from ..resources import read_rule_dicts, read_saved_rules, write_rules

RULES_KEY = "section_rules"


class SpinecodeSectionizer(Sectionizer):
    def __init__(
        self,
        nlp: Language,
        name: str = "spinecode_sectionizer",
        rules: str | None = "spinecode:sections",
        language_code: str = "en",
        max_section_length: int | None = None,
        phrase_matcher_attr: str = "LOWER",
        require_start_line: bool = False,
        require_end_line: bool = False,
        newline_pattern: str = r"[\n\r]+[\s]*$",
        input_span_type: Literal["ents", "group"] | None = "ents",
        span_group_name: str = "medspacy_spans",
        span_attrs: Literal["default"] | dict[str, dict[str, Any]] | None = "default",
        apply_sentence_boundary: bool = False,
    ):
        super().__init__(
            nlp, name=name, rules=None, language_code=language_code, max_section_length=max_section_length,
            phrase_matcher_attr=phrase_matcher_attr, require_start_line=require_start_line,
            require_end_line=require_end_line, newline_pattern=newline_pattern, input_span_type=input_span_type,
            span_group_name=span_group_name, span_attrs=span_attrs, apply_sentence_boundary=apply_sentence_boundary,
        )
        self.phrase_matcher_attr = phrase_matcher_attr
        self.set_rules(read_rule_dicts(rules, RULES_KEY))

    def set_rules(self, rule_dicts: list[dict]) -> None:
        """Replace every rule (and the parent relations they declare)."""
        self._parent_sections, self._parent_required = {}, {}
        self._Sectionizer__matcher = fast_medspacy_matcher(self.nlp, self.name, self.phrase_matcher_attr, prune=True)
        self.add([SectionRule.from_dict(rule) for rule in rule_dicts])

    def to_disk(self, path, exclude=()) -> None:
        write_rules(path, RULES_KEY, self.rules)

    def from_disk(self, path, exclude=()) -> "SpinecodeSectionizer":
        self.set_rules(read_saved_rules(path, RULES_KEY))
        return self

    def __call__(self, doc: Doc) -> Doc:
        if self.require_start_line or self.require_end_line or self._parent_sections or self._apply_sentence_boundary:
            return super().__call__(doc)
        matcher = self._Sectionizer__matcher
        matches = matcher(doc)
        doc._.sections = []
        if not matches:
            doc._.sections.append(Section(None, 0, 0, 0, len(doc)))
            return doc
        sections = []
        if matches[0][1] != 0:
            sections.append(Section(None, 0, 0, 0, matches[0][1]))
        for i, (match_id, start, end) in enumerate(matches):
            rule = matcher.rule_map[self.nlp.vocab.strings[match_id]]
            limit = len(doc) if i == len(matches) - 1 else matches[i + 1][1]
            if self.max_section_length is None and rule.max_scope is None:
                body_end = limit
            elif rule.max_scope is not None:
                body_end = min(end + rule.max_scope, limit)
            else:
                body_end = min(end + self.max_section_length, limit)
            sections.append(Section(rule.category, start, end, end, body_end, None, rule))
        offsets = doc.to_array([IDX]).tolist()
        store = doc.user_data
        for section in sections:
            doc._.sections.append(section)
            start, end = section.section_span
            for i in range(start, end):
                store[("._.", "section", offsets[i], None)] = section  # == doc[i]._.section = section
        if self.assertion_attributes_mapping:
            if self._input_span_type.lower() == "ents":
                self.set_assertion_attributes(doc.ents)
            elif self._input_span_type.lower() == "group":
                self.set_assertion_attributes(doc.spans[self._span_group_name])
        return doc
