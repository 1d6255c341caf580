"""Turn the text of a level mention into canonical levels (T-12 → T12, "L1-3" → L1 L2 L3, ...).

The vocabulary (dictation mishearings, ordinals, D for dorsal) lives in patterns/levels.json.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib.resources import files

from .facts import LEVEL_ORDER


@lru_cache(maxsize=1)
def _vocab() -> dict:
    return json.loads((files("extractor.patterns") / "levels.json").read_text(encoding="utf-8"))


_TOKEN = re.compile(r"[a-z]+|\d+")
_RANGE_WORD = re.compile(r"\s*(?:-|–|—|\bto\b|\bthrough\b|\bthru\b)\s*", re.IGNORECASE)


def _single(text: str, default_prefix: str | None = None) -> str | None:
    vocab = _vocab()
    low = text.lower().strip()
    for name, level in vocab["named"].items():
        if re.search(rf"\b{name}\b", low):
            return level
    tokens = _TOKEN.findall(low)
    if not tokens:
        return None
    # ordinal form: "twelfth thoracic vertebral body"
    if tokens[0] in vocab["ordinals"] and len(tokens) > 1 and tokens[1] in vocab["regions"]:
        return _make(vocab["regions"][tokens[1]], vocab["ordinals"][tokens[0]])
    prefix, number = None, None
    if tokens[0] in vocab["prefixes"]:
        prefix = vocab["prefixes"][tokens[0]]
        rest = tokens[1:]
    elif re.match(r"^[ctld]\d+$", tokens[0]):
        prefix = vocab["prefixes"][tokens[0][0]]
        rest = [tokens[0][1:]]
    else:
        prefix = default_prefix
        rest = tokens
    if rest:
        number = int(rest[0]) if rest[0].isdigit() else vocab["numbers"].get(rest[0])
    if prefix is None or number is None:
        return None
    return _make(prefix, number)


def _make(prefix: str, number: int) -> str | None:
    if 1 <= number <= _vocab()["max"][prefix]:
        return f"{prefix}{number}"
    return None


def parse_levels(text: str) -> tuple[str, ...]:
    """Canonical levels named by one mention; a range expands to every level in it."""
    text = text.strip()
    parts = [text]
    for sep in _RANGE_WORD.finditer(text):
        # "T-12" is one level: split only where the left side is already a whole level
        if _single(text[: sep.start()]) is not None and sep.end() < len(text):
            parts = [text[: sep.start()], text[sep.end() :]]
            break
    first = _single(parts[0])
    if first is None:
        return ()
    if len(parts) == 1 or first == "sacrum":
        return (first,)
    last = _single(parts[1], default_prefix=first[0])
    if last is None or last == "sacrum":
        return (first,)
    i, j = LEVEL_ORDER.index(first), LEVEL_ORDER.index(last)
    if j < i:
        i, j = j, i
    if j - i > 8:  # not a plausible treated range; keep the ends only
        return (LEVEL_ORDER[i], LEVEL_ORDER[j])
    return LEVEL_ORDER[i : j + 1]
