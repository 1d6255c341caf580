"""The word lists and small regexes of the decision layer and the sentence splitter, read once from
patterns/lexicons.json.

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


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    data = json.loads((files("extractor.patterns") / "lexicons.json").read_text(encoding="utf-8"))
    return Lexicon(data["lexicons"])
