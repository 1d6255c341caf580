"""The word lists and small regexes of the decision layer and the sentence splitter, read once from
patterns/lexicons.json, the sedation and date-of-service cues of patterns/sedation.json and dates.json,
the document types of document.json and the relevance gate's cue classes of gate.json.

`lexicon().regex(name)` is the compiled entry, `lexicon().words(name)` its words as a tuple, in file
order. An unknown name raises KeyError: every list the code uses is an entry of the file. An entry with
"pieces": "levels" has the level grammar's pieces (<level>, <ordinal>, ...) filled in (extractor/levels.py).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib.resources import files

from .levels import grammar

_FLAGS = {"IGNORECASE": re.IGNORECASE, "ASCII": re.ASCII}


class Lexicon:
    def __init__(self, entries: dict[str, dict]):
        self.entries = entries
        self._compiled: dict[str, re.Pattern] = {}

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


LEXICON_FILES = ("lexicons", "sedation", "dates", "document", "gate")


@lru_cache(maxsize=len(LEXICON_FILES))
def lexicon(name: str = "lexicons") -> Lexicon:
    """The entries of patterns/<name>.json (one of LEXICON_FILES)."""
    if name not in LEXICON_FILES:
        raise KeyError(name)
    data = json.loads((files("extractor.patterns") / f"{name}.json").read_text(encoding="utf-8"))
    return Lexicon(data["lexicons"])
