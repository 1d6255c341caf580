"""The word lists and small regexes of the decision layer and the sentence splitter, read once from
patterns/lexicons.json, the sedation and date-of-service cues of patterns/sedation.json and dates.json,
the document types of document.json and the relevance gate's cue classes of gate.json.

`lexicon().regex(name)` is the compiled entry, `lexicon().words(name)` its words as a tuple, in file
order. An unknown name raises KeyError: every list the code uses is an entry of the file. An entry with
"pieces": "levels" has the level grammar's pieces (<level>, <ordinal>, ...) filled in (extractor/levels.py).
`lexicon().screen(names)` searches many entries in one piece of text, skipping those that cannot match.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib.resources import files

from .levels import grammar
from .regex_scan import FastPattern, RegexScanner, ascii_reading, screenable

_FLAGS = {"IGNORECASE": re.IGNORECASE, "ASCII": re.ASCII}


class Lexicon:
    def __init__(self, entries: dict[str, dict]):
        self.entries = entries
        self._compiled: dict[str, re.Pattern] = {}
        self._screens: dict[tuple[str, ...], Screen] = {}
        self._fast: dict[str, FastPattern] = {}

    def regex(self, name: str) -> re.Pattern:
        compiled = self._compiled.get(name)
        if compiled is None:
            entry = self.entries[name]
            flags = 0
            for flag in entry.get("flags", ()):
                flags |= _FLAGS[flag]
            pattern = entry["regex"]
            if entry.get("pieces") == "levels":
                pattern = grammar().expand(pattern)
            compiled = self._compiled[name] = re.compile(pattern, flags)
        return compiled

    def words(self, name: str) -> tuple[str, ...]:
        return tuple(self.entries[name]["words"])

    def finditer(self, name: str, text: str) -> list[re.Match]:
        """`regex(name).finditer(text)`, found through Hyperscan where it can be (regex_scan.FastPattern)."""
        fast = self._fast.get(name)
        if fast is None:
            fast = self._fast[name] = FastPattern(self.regex(name))
        return fast.finditer(text)

    def screen(self, names: tuple[str, ...]) -> Screen:
        """A `Screen` of these entries (built once per tuple of names)."""
        found = self._screens.get(names)
        if found is None:
            found = self._screens[names] = Screen(self, names)
        return found


class Screen:
    """`search(name)` for many entries in one text, as `regex(name).search(text)` gives it, faster: one
    Hyperscan scan says which entries can have no match there (see RegexScanner.may_match), and those
    are not searched. Many `*.search(sentence)` calls per sentence were the sedation reader's time."""

    def __init__(self, lexicon: Lexicon, names: tuple[str, ...]):
        self.lexicon = lexicon
        self.names = names
        patterns = [lexicon.regex(name) for name in names]
        self._scanner = RegexScanner([ascii_reading(p) for p in patterns])

    def searcher(self, text: str):
        """A function name -> `regex(name).search(text)` (an entry not screened is searched as it is)."""
        regex = self.lexicon.regex
        if not screenable(text):
            return lambda name: regex(name).search(text)
        possible = dict(zip(self.names, self._scanner.may_match(text)))
        return lambda name: regex(name).search(text) if possible.get(name, True) else None


LEXICON_FILES = ("lexicons", "sedation", "dates", "document", "gate")


@lru_cache(maxsize=len(LEXICON_FILES))
def lexicon(name: str = "lexicons") -> Lexicon:
    """The entries of patterns/<name>.json (one of LEXICON_FILES)."""
    if name not in LEXICON_FILES:
        raise KeyError(name)
    data = json.loads((files("extractor.patterns") / f"{name}.json").read_text(encoding="utf-8"))
    return Lexicon(data["lexicons"])
