"""A drop-in replacement for medspaCy 1.3.1's RegexMatcher, used by its Sectionizer, TargetMatcher
and ConText.

The stock matcher rebuilds `doc.text_with_ws` for every pattern and resolves each match to tokens with
`doc.char_span` and a linear scan; with ~70 regex rules per component that was most of our time.
Here the text and the token start/end offsets are computed once per call and matches are resolved by
bisection. Semantics are the stock defaults (resolve_start="left", resolve_end="right"), except that
whitespace at the edges of a match is trimmed first, so spans never begin or end in whitespace.
"""

import re
from bisect import bisect_left, bisect_right

from medspacy.common import medspacy_matcher
from medspacy.common.regex_matcher import RegexMatcher
from spacy.tokens import Doc


class FastRegexMatcher(RegexMatcher):
    def __init__(self, vocab, flags=re.IGNORECASE, resolve_start="left", resolve_end="right"):
        # ASCII classes: notes are normalised one character for one (text.py), and ASCII \w and \b are
        # markedly faster in Python's engine than their Unicode forms
        super().__init__(vocab, flags=flags | re.ASCII, resolve_start=resolve_start, resolve_end=resolve_end)

    def __call__(self, doc: Doc) -> list[tuple[int, int, int]]:
        text = doc.text
        starts = [t.idx for t in doc]
        ends = [t.idx + len(t.text) for t in doc]
        matches: list[tuple[int, int, int]] = []
        for match_id, patterns in self._patterns.items():
            on_match = self._callbacks[match_id]
            for pattern in patterns:
                for found in pattern.finditer(text):
                    s, e = found.start(), found.end()
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


def install() -> None:
    """Make medspaCy's matchers built from now on use FastRegexMatcher."""
    medspacy_matcher.RegexMatcher = FastRegexMatcher
