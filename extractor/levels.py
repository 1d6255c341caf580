"""The level grammar, the one owner of how a vertebral level is written: built from patterns/levels.json
(letters, dictation mishearings, number words, ordinals, regions, named levels, D for dorsal).

- `grammar().expand(pattern)` fills the pieces <level>, <level_letter>, <number>, <range_word>,
  <ordinal>, <region> of the rules in patterns/ (the LEVEL target rules, and cue rules that look
  for a level nearby) with regexes built from the vocabulary;
- `grammar().label_token` is a level written as one token ("T12", "S1", "sacrum") for the sentence
  splitter's per-level labels ("T12: ...");
- `parse_levels(text)` turns a matched mention into canonical levels (T-12 → T12, "L1-3" → L1 L2 L3).

The tokenizer splits "L-1" and "T12/L1" into tokens (pipeline/tokenizer.py EXTRA_INFIXES) only so that
rule spans fall on token edges; what counts as a level is decided here. Examples: tests/test_levels.py.
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


def _digits(maximum: int) -> str:
    """A regex for the numbers 1..maximum (maximum 10-19 or 1-9): 12 → (?:1[0-2]|[1-9])."""
    if maximum < 10:
        return f"[1-{maximum}]"
    return f"(?:1[0-{maximum - 10}]|[1-9])"


def entries(vocab: dict, key: str) -> dict:
    """A table of levels.json without its "about" line."""
    return {k: v for k, v in vocab[key].items() if k != "about"}


def number_of(vocab: dict, word: str) -> int | None:
    """The number a number word or a dictation homophone stands for."""
    return vocab["numbers"].get(word) or entries(vocab, "homophones").get(word)


class LevelGrammar:
    def __init__(self, vocab: dict):
        letters = [key.upper() for key in vocab["prefixes"] if len(key) == 1]
        words = list(vocab["numbers"])
        spoken: dict[str, list[str]] = {}  # letter -> its dictated forms ("tea", "tee")
        for key, letter in vocab["prefixes"].items():
            if len(key) > 1:
                spoken.setdefault(letter, []).append(key)
        number = _digits(max(vocab["max"].values()))
        sounds = list(entries(vocab, "homophones"))
        forms = [
            rf"[{''.join(letters)}]\s?-?\s?{number}",
            # "L. one": a dictated letter carries a stop; after it a homophone is a number ("L. for")
            rf"[{''.join(letters)}]\.?\s?-?\s?(?:{'|'.join(words)})\b",
            rf"[{''.join(letters)}]\.\s?(?:{'|'.join(sounds)})\b",
            # "Th12": an abbreviation of more than one letter before the digits
            *(rf"{name}\.?\s?-?\s?{_digits(vocab['max'][letter])}(?!\d)"
              for name, letter in entries(vocab, "abbreviations").items()),
            # OCR of a scanned page reads 1 as a lower-case l and 0 as O: "Tl2", "TlO", "T1O", "Ll"
            rf"[{''.join(letters)}](?:(?-i:l)(?:[0-2]|(?-i:O))?|1(?-i:O))\b",
        ]
        for letter, names in spoken.items():
            allowed = [w for w in words + sounds if number_of(vocab, w) <= vocab["max"][letter]]
            forms.append(rf"(?:{'|'.join(names)})[\s-]?(?:{'|'.join(allowed)})\b")
        self.pieces = {
            "<level>": "(?:" + "|".join(forms) + ")",
            "<level_letter>": f"[{''.join(letters)}]",
            "<number>": number,
            "<range_word>": "(?:" + "|".join(re.escape(w) for w in vocab["range_words"]) + ")",
            "<ordinal>": "(?:" + "|".join(vocab["ordinals"]) + ")",
            "<region>": "(?:" + "|".join(vocab["regions"]) + ")",
        }
        words_or_marks = [rf"\b{re.escape(w)}\b" if w.isalpha() else re.escape(w) for w in vocab["range_words"]]
        # between the two ends of a range in a matched mention ("T11 - L1", "L2 to L4")
        self.range_separator = re.compile(r"\s*(?:" + "|".join(words_or_marks) + r")\s*", re.IGNORECASE)
        # a letter and a number as one token: "t12"
        self.letter_number = re.compile(rf"^[{''.join(letters).lower()}]\d+$")
        sacral = "S" if any(re.fullmatch(r"s\d", name) for name in vocab["named"]) else ""
        self.label_token = rf"(?:[{''.join(letters)}{sacral}]-?\s?\d{{1,2}}|sacrum)"

    def expand(self, pattern: str) -> str:
        """A target rule's pattern with the grammar's pieces filled in."""
        for piece, regex in self.pieces.items():
            pattern = pattern.replace(piece, regex)
        return pattern


@lru_cache(maxsize=1)
def grammar() -> LevelGrammar:
    return LevelGrammar(_vocab())


_TOKEN = re.compile(r"[a-z]+|\d+")


_OCR_LEVEL = re.compile(r"\s*([CTLDctld])(?:l([0-2O]?)|1(O))\s*")


def _ocr_read(text: str) -> str:
    """'Tl2' -> 'T12', 'TlO' / 'T1O' -> 'T10', 'Ll' -> 'L1': the digits an OCR pass read as letters."""
    found = _OCR_LEVEL.fullmatch(text)
    if not found:
        return text
    letter, second, zero = found.groups()
    return letter + "1" + ("0" if zero or second == "O" else second or "")


def _single(text: str, default_prefix: str | None = None) -> str | None:
    vocab = _vocab()
    low = _ocr_read(text).lower().strip()
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
    elif tokens[0] in entries(vocab, "abbreviations"):
        prefix = entries(vocab, "abbreviations")[tokens[0]]
        rest = tokens[1:]
    elif grammar().letter_number.match(tokens[0]):
        prefix = vocab["prefixes"][tokens[0][0]]
        rest = [tokens[0][1:]]
    else:
        prefix = default_prefix
        rest = tokens
    if rest:
        number = int(rest[0]) if rest[0].isdigit() else number_of(vocab, rest[0])
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
    for sep in grammar().range_separator.finditer(text):
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
