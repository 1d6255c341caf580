"""The word lists and small regexes of the decision layer and the sentence splitter, read once from
patterns/lexicons.json, and the sedation and date-of-service cues of patterns/sedation.json and dates.json.

`lexicon().regex(name)` is the compiled entry, `lexicon().words(name)` its words as a tuple, in file
order. An unknown name raises KeyError: every list the code uses is an entry of the file.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib.resources import files

_FLAGS = {"IGNORECASE": re.IGNORECASE}


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
            compiled = self._compiled[name] = re.compile(entry["regex"], flags)
        return compiled

    def words(self, name: str) -> tuple[str, ...]:
        return tuple(self.entries[name]["words"])


LEXICON_FILES = ("lexicons", "sedation", "dates", "document")


@lru_cache(maxsize=len(LEXICON_FILES))
def lexicon(name: str = "lexicons") -> Lexicon:
    """The entries of patterns/<name>.json (one of LEXICON_FILES)."""
    if name not in LEXICON_FILES:
        raise KeyError(name)
    data = json.loads((files("extractor.patterns") / f"{name}.json").read_text(encoding="utf-8"))
    return Lexicon(data["lexicons"])
