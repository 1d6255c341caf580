"""A drop-in replacement for medspaCy 1.3.1's RegexMatcher, injected into the MedspacyMatcher of our
sectionizer, target matcher and ConText (`fast_medspacy_matcher`); medspaCy's own modules are untouched.

The stock matcher runs every pattern over `doc.text_with_ws` rebuilt per pattern and resolves each
match to tokens with `doc.char_span` and a linear scan; with ~70 regex rules that was most of our
time. Here all patterns of a matcher are found in one pass (`regex_scan.RegexScanner`: Hyperscan
finds where matches may start, `re` makes them, results identical to `finditer`) and matches are
resolved to tokens by bisection. Semantics are the stock defaults (resolve_start="left",
resolve_end="right"), except that whitespace at the edges of a match is trimmed first, so spans never
begin or end in whitespace.
"""

import re
from bisect import bisect_left, bisect_right

from medspacy.common.medspacy_matcher import MedspacyMatcher
from medspacy.common.regex_matcher import RegexMatcher
from spacy.tokens import Doc

from ...regex_scan import RegexScanner
from ..doc_text import doc_text, token_bounds


class FastRegexMatcher(RegexMatcher):
    def __init__(self, vocab, flags=re.IGNORECASE, resolve_start="left", resolve_end="right"):
        # ASCII classes: notes are normalised one character for one (text.py), and ASCII \w and \b are
        # markedly faster in Python's engine than their Unicode forms
        super().__init__(vocab, flags=flags | re.ASCII, resolve_start=resolve_start, resolve_end=resolve_end)
        self._match_ids: list = []  # the match id of each pattern the scanner holds, in order
        self._scanner = None

    def add(self, *args, **kwargs):
        self._scanner = None  # rebuilt with the new patterns on the next call
        return super().add(*args, **kwargs)

    def __call__(self, doc: Doc) -> list[tuple[int, int, int]]:
        if self._scanner is None:
            order = [(match_id, p) for match_id, patterns in self._patterns.items() for p in patterns]
            self._match_ids = [match_id for match_id, _ in order]
            self._scanner = RegexScanner([p for _, p in order])
        text = doc_text(doc)
        starts, ends = token_bounds(doc)
        matches: list[tuple[int, int, int]] = []
        for match_id, spans in zip(self._match_ids, self._scanner.finditer_all(text)):
            on_match = self._callbacks[match_id]
            for s, e in spans:
                while s < e and text[s].isspace():
                    s += 1
                while e > s and text[e - 1].isspace():
                    e -= 1
                if s >= e:
                    continue
                first = bisect_right(starts, s) - 1  # the token holding the first character
                last = bisect_left(ends, e)  # the token holding the last character
                if first < 0 or last >= len(ends) or last < first:
                    continue
                matches.append((match_id, first, last + 1))
                if on_match is not None:
                    on_match(self, doc, len(matches) - 1, matches)
        return matches


def fast_medspacy_matcher(nlp, name: str, phrase_matcher_attr: str = "LOWER", prune: bool = True) -> MedspacyMatcher:
    """A MedspacyMatcher whose regex rules run on FastRegexMatcher. Call before any rule is added."""
    matcher = MedspacyMatcher(nlp, name=name, phrase_matcher_attr=phrase_matcher_attr, prune=prune)
    # MedspacyMatcher builds its RegexMatcher in __init__ under a private name; check the name so that
    # a medspaCy upgrade that changes it fails here instead of silently running the stock matcher
    assert isinstance(matcher._MedspacyMatcher__regex_matcher, RegexMatcher)
    matcher._MedspacyMatcher__regex_matcher = FastRegexMatcher(nlp.vocab)
    return matcher
