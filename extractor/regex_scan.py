"""Exact `finditer` for many Python regexes over one text, with Hyperscan as a candidate finder.

Python's `re` tries every rule at every character of the note: with ~70 rules that was most of the
pipeline's time. Hyperscan scans the text once for all rules. It cannot replace `re` (lookarounds,
leftmost-first alternation), so it only says *where a match may be*; `re` still makes every match:

1. Each rule is compiled for Hyperscan as its shortest non-empty leading part with every lookaround
   removed (a top-level alternation whole, or, when Hyperscan refuses it as too large, as the
   alternation of its branches' leading parts). Every real match (s, e) then has a span (s, e') of
   that form with e' > s, and `HS_FLAG_SOM_LEFTMOST` reports, for each end offset, the leftmost start
   of a span ending there.
2. So every real match starts inside the window [start, end) of some event. `re` is tried only
   there: position by position in short windows, by one `search` from the window's start in long
   ones (no match can start earlier, so that `search` finds what `finditer` finds next). A rule
   without any event has no match at all (`may_match`, a screen before `search`).

Results are identical to `pattern.finditer(text)` by construction; `tests/test_regex_scan.py` checks
it over the corpora and random texts. Only rules whose syntax means the same to both engines are
accelerated: ASCII-class rules (`re.ASCII`, as the rule files are compiled) without backreferences,
conditionals, verbose mode, POSIX-looking classes or a backslash-N escape, that cannot match the
empty string and that Hyperscan compiles. Other rules, and texts with lone surrogates, are scanned by
`re` alone, as everything is when the `hyperscan` package is not installed. Used by the pipeline's
regex matchers (pipeline/medspacy_patches/regex_matcher.py) and the decision layer's `lexicon.Screen`.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import tempfile
import threading
from bisect import bisect_right
from pathlib import Path

try:  # optional accelerator: everything works (slower, same results) without it
    import hyperscan
except ImportError:  # pragma: no cover - exercised by the plain path's tests
    hyperscan = None

try:
    from re import _parser as _sre_parser  # Python ≥ 3.11
except ImportError:  # pragma: no cover
    import sre_parse as _sre_parser

# bump when the way a rule becomes a Hyperscan form changes: cached databases from before are ignored
FORM_VERSION = 3

_LOOKAROUND_OPENERS = ("(?<=", "(?<!", "(?=", "(?!")
# backreferences, conditionals, inline ASCII/locale/unicode/verbose flags, and \N (a named character
# in Python, "not a newline" in PCRE)
_UNSUPPORTED = re.compile(r"\\[1-9]|\(\?P=|\(\?\(|\(\?[aLux]|\\N")
# inside a class, "[:alpha:]" is a POSIX class to PCRE and plain characters to Python
_POSIX_LIKE = re.compile(r"\[[:=.]")


def superset_pattern(pattern: str) -> str | None:
    """The pattern with every lookaround removed (so it accepts a superset of spans), or None when it
    uses what we do not translate (backreferences, conditionals, ASCII/locale/unicode inline flags)."""
    if _UNSUPPORTED.search(pattern):
        return None
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        if pattern.startswith(_LOOKAROUND_OPENERS, i):
            i = _group_end(pattern, i)
            if i < 0:
                return None
            out.append("(?:)")
            continue
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i : i + 2])
            i += 2
        elif ch == "[":
            end = _class_end(pattern, i)
            if end < 0 or _POSIX_LIKE.search(pattern, i + 1, end):
                return None
            out.append(pattern[i:end])
            i = end
        elif ch == "{" and pattern.startswith("{,", i):  # Python's {,n}; PCRE reads it as text
            out.append("{0")
            i += 1
        elif pattern.startswith("(?>", i):  # atomic group → plain group accepts more
            out.append("(?:")
            i += 3
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _class_end(pattern: str, i: int) -> int:
    """Index after the character class that starts at pattern[i] == '['."""
    j = i + 1
    if j < len(pattern) and pattern[j] == "^":
        j += 1
    if j < len(pattern) and pattern[j] == "]":  # a leading ']' is literal
        j += 1
    while j < len(pattern):
        if pattern[j] == "\\":
            j += 2
            continue
        if pattern[j] == "]":
            return j + 1
        j += 1
    return -1


def _group_end(pattern: str, i: int) -> int:
    """Index after the group that opens at pattern[i] == '('."""
    depth = 0
    j = i
    while j < len(pattern):
        ch = pattern[j]
        if ch == "\\":
            j += 2
            continue
        if ch == "[":
            j = _class_end(pattern, j)
            if j < 0:
                return -1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return -1


def _may_match_empty(pattern: re.Pattern) -> bool:
    try:
        return _sre_parser.parse(pattern.pattern, pattern.flags).getwidth()[0] == 0
    except Exception:  # noqa: BLE001 - unknown → take the safe path
        return True


def _hyperscan_flags(pattern: re.Pattern) -> int:
    flags = hyperscan.HS_FLAG_SOM_LEFTMOST | hyperscan.HS_FLAG_UTF8
    if pattern.flags & re.IGNORECASE:
        flags |= hyperscan.HS_FLAG_CASELESS
    if pattern.flags & re.MULTILINE:
        flags |= hyperscan.HS_FLAG_MULTILINE
    if pattern.flags & re.DOTALL:
        flags |= hyperscan.HS_FLAG_DOTALL
    return flags


def _hyperscan_form(pattern: re.Pattern, whole: bool = False) -> bytes | None:
    """What Hyperscan scans for this rule: the shortest non-empty leading part of the rule with its
    lookarounds removed (the whole rule if it is a top-level alternation).

    Every real match (s, e) then has a span (s, e') of this form with e' > s, which is all
    `_matches_from_windows` needs; leading parts compile in a fraction of the time of whole rules
    (start tracking over bounded repeats like "[^)\\n]{0,60}" is even refused as too large) and
    scan as fast. whole: the rule without its lookarounds, a sharper screen for a scanner of one
    or a few rules (`FastPattern`), where compiling is cheap.
    """
    expression = _superset_expression(pattern)
    if expression is None:
        return None
    return (expression if whole else _leading_part(expression, pattern.flags)).encode("utf-8")


def _branch_leads_form(pattern: re.Pattern) -> bytes | None:
    """The form of a top-level alternation that Hyperscan refuses whole: each branch's leading part,
    still alternated. A match comes from one branch, so it still has a span (s, e') of this form."""
    expression = _superset_expression(pattern)
    branches = None if expression is None else _top_level_branches(expression)
    if branches is None or len(branches) < 2:
        return None
    return "|".join(_prefix_before_long_repeat(branch, pattern.flags) for branch in branches).encode("utf-8")


# a counted repeat this long ("[^.;]{0,60}") is what makes Hyperscan's start tracking too large
_LONG_REPEAT = re.compile(r"\{\d*,(\d+)\}")
LONG_REPEAT_MIN = 20


def _prefix_before_long_repeat(expression: str, flags: int) -> str:
    """The expression's top-level items before the first long counted repeat, when they cannot match
    empty (a sharper screen than the shortest leading part); else the shortest leading part."""
    items = _top_level_items(expression)
    if items is not None:
        k = 0
        while k < len(items) and not any(int(m.group(1)) >= LONG_REPEAT_MIN for m in _LONG_REPEAT.finditer(items[k])):
            k += 1
        prefix = "".join(items[:k])
        if prefix and (_min_width(prefix, flags) or 0) > 0:
            return prefix
    return _leading_part(expression, flags)


def _min_width(expression: str, flags: int) -> int | None:
    """The fewest characters the expression matches; None when it does not parse alone."""
    try:
        return _sre_parser.parse(expression, flags).getwidth()[0]
    except Exception:  # noqa: BLE001 - a part that does not parse alone is not used
        return None


def _superset_expression(pattern: re.Pattern) -> str | None:
    if not pattern.flags & re.ASCII or pattern.flags & re.VERBOSE or isinstance(pattern.pattern, bytes):
        return None
    if _may_match_empty(pattern):
        return None
    return superset_pattern(pattern.pattern)


def _leading_part(expression: str, flags: int) -> str:
    """The shortest prefix of the expression's top-level sequence that cannot match empty (the whole
    expression when it has a top-level '|' or no such prefix)."""
    items = _top_level_items(expression)
    if items is not None:
        for k in range(1, len(items)):
            prefix = "".join(items[:k])
            width = _min_width(prefix, flags)
            if width is None:  # a prefix that does not parse alone: keep the whole expression
                break
            if width > 0:
                return prefix
    return expression


def _top_level_branches(expression: str) -> list[str] | None:
    """The expression split at its top-level '|' (None if it does not parse as we expect)."""
    pieces = _top_level_pieces(expression)
    if pieces is None:
        return None
    branches: list[list[str]] = [[]]
    for piece in pieces:
        if piece == "|":
            branches.append([])
        else:
            branches[-1].append(piece)
    return ["".join(branch) for branch in branches]


_QUANTIFIER = re.compile(r"(?:[*+?]|\{\d*(?:,\d*)?\})[?+]?")


def _top_level_items(expression: str) -> list[str] | None:
    """The expression's top-level sequence (atom + quantifier each); None if it has a top-level '|'."""
    pieces = _top_level_pieces(expression)
    return None if pieces is None or "|" in pieces else pieces


def _top_level_pieces(expression: str) -> list[str] | None:
    """The expression's top-level atoms (each with its quantifier) and '|'s, in order; None if it does
    not parse as we expect."""
    pieces: list[str] = []
    i, n = 0, len(expression)
    while i < n:
        ch = expression[i]
        if ch == "|":
            pieces.append(ch)
            i += 1
            continue
        if ch == "\\":
            end = i + 2
        elif ch == "[":
            end = _class_end(expression, i)
        elif ch == "(":
            end = _group_end(expression, i)
        else:
            end = i + 1
        if end < 0:
            return None
        quantifier = _QUANTIFIER.match(expression, end)
        if quantifier is not None:
            end = quantifier.end()
        pieces.append(expression[i:end])
        i = end
    return pieces


def _compile(forms: list[tuple[int, bytes, int]]):
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(expressions=[f[1] for f in forms], ids=[f[0] for f in forms], flags=[f[2] for f in forms])
    return database


def cache_dir() -> Path:
    """Where compiled Hyperscan databases are kept: $SPINECODE_CACHE_DIR, else the user's cache."""
    configured = os.environ.get("SPINECODE_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "spinecode"


def _cached_database(patterns: list[re.Pattern], forms_of, whole: bool = False):
    """(database, ids of the patterns it holds) for these patterns, from the cache or compiled.

    Compiling the rule files takes ≈ 0.8 s and finding each rule's form ≈ 0.1 s; loading takes ≈ 1 ms.
    A cache file is `sha256(payload) + payload`, payload = header length (4 bytes) + JSON header (the
    pattern ids in the database) + Hyperscan's serialised database. It is named by a hash of everything
    it depends on (FORM_VERSION, Hyperscan version, machine, every pattern and its flags); a file that
    does not check out is ignored and rewritten. Never fatal: without a writable cache, it compiles.
    """
    key = hashlib.sha256(
        json.dumps(
            [FORM_VERSION, whole, hyperscan.__version__, platform.machine(),
             [[p.pattern, int(p.flags)] for p in patterns]]
        ).encode()
    ).hexdigest()
    path = cache_dir() / f"regex-{key[:32]}.hsdb"
    try:
        stored = path.read_bytes()
        digest, payload = stored[:32], stored[32:]
        if hashlib.sha256(payload).digest() == digest:
            size = int.from_bytes(payload[:4], "big")
            ids = json.loads(payload[4 : 4 + size].decode("utf-8"))["ids"]
            return hyperscan.loadb(payload[4 + size :], hyperscan.HS_MODE_BLOCK), ids
    except (OSError, ValueError, KeyError, TypeError, hyperscan.error):  # type: ignore[attr-defined]
        pass
    forms = forms_of()
    if not forms:
        return None, []
    try:
        database = _compile(forms)
    except hyperscan.error:  # type: ignore[attr-defined]
        forms = [_accepted_form(form, patterns[form[0]]) for form in forms]  # the rules still refused stay with re
        forms = [form for form in forms if form is not None]
        if not forms:
            return None, []
        database = _compile(forms)
    ids = [index for index, _, _ in forms]
    try:
        header = json.dumps({"ids": ids}).encode("utf-8")
        payload = len(header).to_bytes(4, "big") + header + hyperscan.dumpb(database)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".regex-", delete=False) as handle:
            handle.write(hashlib.sha256(payload).digest() + payload)
        os.replace(handle.name, path)
    except (OSError, hyperscan.error):  # type: ignore[attr-defined]  # read-only home: compile each time
        pass
    return database, ids


def _accepted_form(form: tuple[int, bytes, int], pattern: re.Pattern) -> tuple[int, bytes, int] | None:
    """The form, else the rule's leading part, else its branches' leading parts, whichever Hyperscan
    compiles first; None if none."""
    if _compiles(form):
        return form
    for fallback in (_hyperscan_form(pattern), _branch_leads_form(pattern)):
        if fallback is not None and fallback != form and _compiles((form[0], fallback, form[2])):
            return form[0], fallback, form[2]
    return None


def _compiles(form: tuple[int, bytes, int]) -> bool:
    try:
        _compile([form])
        return True
    except hyperscan.error:  # type: ignore[attr-defined]
        return False


class RegexScanner:
    """All matches of a fixed list of compiled patterns over a text, as `finditer` would give them.

    Picklable: the Hyperscan database is built lazily in each process and never pickled.
    """

    def __init__(self, patterns: list[re.Pattern], use_hyperscan: bool = True, whole_rules: bool = False):
        self.patterns = list(patterns)
        self.whole_rules = whole_rules  # scan for each rule whole (lookarounds removed), not its leading part
        self.use_hyperscan = use_hyperscan and hyperscan is not None
        self._reset()

    def _reset(self) -> None:
        self._database = None
        self._scratch = threading.local()
        self._accelerated: list[bool] = []
        self._built = False
        self._lock = threading.Lock()

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        for name in ("_database", "_scratch", "_accelerated", "_built", "_lock"):
            del state[name]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._reset()

    @property
    def accelerated(self) -> list[bool]:
        """Per pattern: found through Hyperscan (True) or by `re` alone (False)."""
        self._build()
        return list(self._accelerated)

    def _build(self) -> None:
        if self._built:
            return
        with self._lock:
            if not self._built:
                self._build_database()
                self._built = True

    def _build_database(self) -> None:
        self._accelerated = [False] * len(self.patterns)
        if not self.use_hyperscan:
            return

        def forms_of() -> list[tuple[int, bytes, int]]:
            forms = []
            for index, pattern in enumerate(self.patterns):
                form = _hyperscan_form(pattern, self.whole_rules)
                if form is not None:
                    forms.append((index, form, _hyperscan_flags(pattern)))
            return forms

        self._database, ids = _cached_database(self.patterns, forms_of, self.whole_rules)
        for index in ids:
            self._accelerated[index] = True

    def finditer_all(self, text: str) -> list[list[tuple[int, int]]]:
        """For each pattern, the (start, end) character offsets `pattern.finditer(text)` yields."""
        self._build()
        events = self._events(text) if self._database is not None else None
        results: list[list[tuple[int, int]]] = []
        for index, pattern in enumerate(self.patterns):
            if events is None or not self._accelerated[index]:
                results.append([m.span() for m in pattern.finditer(text)])
            else:
                results.append(_matches_from_windows(pattern, text, events.get(index)))
        return results

    def may_match(self, text: str) -> list[bool]:
        """Per pattern: False only when it has no match in text (Hyperscan found no span of its form);
        True otherwise, and always for a pattern `re` scans alone. A cheap screen before `search`."""
        self._build()
        if self._database is None:
            return [True] * len(self.patterns)
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: not valid UTF-8 for Hyperscan
            return [True] * len(self.patterns)
        hit: set[int] = set()

        def on_match(pattern_id: int, start: int, end: int, flags: int, context: object) -> None:
            hit.add(pattern_id)

        scratch = getattr(self._scratch, "value", None)
        if scratch is None:
            scratch = self._scratch.value = hyperscan.Scratch(self._database)
        self._database.scan(data, match_event_handler=on_match, scratch=scratch)
        return [not accelerated or index in hit for index, accelerated in enumerate(self._accelerated)]

    def _events(self, text: str) -> dict[int, list[tuple[int, int]]] | None:
        """Per accelerated pattern: the windows [leftmost start, end) of its events, merged and sorted.
        Every match `finditer` would give starts inside one of them."""
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: not valid UTF-8 for Hyperscan
            return None
        raw: dict[int, list[tuple[int, int]]] = {}

        def on_match(pattern_id: int, start: int, end: int, flags: int, context: object) -> None:
            found = raw.get(pattern_id)
            if found is None:
                raw[pattern_id] = [(start, end)]
            else:
                found.append((start, end))

        scratch = getattr(self._scratch, "value", None)
        if scratch is None:  # Hyperscan scratch space is per thread
            scratch = self._scratch.value = hyperscan.Scratch(self._database)
        self._database.scan(data, match_event_handler=on_match, scratch=scratch)
        to_char = None if len(data) == len(text) else _byte_to_char(text)
        windows: dict[int, list[tuple[int, int]]] = {}
        for pattern_id, found in raw.items():
            if to_char is not None:
                found = [(to_char(start), to_char(end)) for start, end in found]
            found.sort()
            merged = [found[0]]
            for start, end in found[1:]:
                last_start, last_end = merged[-1]
                if start <= last_end:
                    if end > last_end:
                        merged[-1] = (last_start, end)
                else:
                    merged.append((start, end))
            windows[pattern_id] = merged
        return windows


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _byte_to_char(text: str):
    """A function mapping a UTF-8 byte offset of text to its character offset (for offsets on character
    boundaries, which is where Hyperscan reports in UTF-8 mode)."""
    byte_ends: list[int] = []  # byte offset just after each non-ASCII character
    extra: list[int] = [0]  # bytes beyond one per character, up to and including that character
    for found in _NON_ASCII.finditer(text):
        width = len(found.group().encode("utf-8"))
        byte_ends.append(found.start() + extra[-1] + width)
        extra.append(extra[-1] + width - 1)

    def to_char(offset: int) -> int:
        return offset - extra[bisect_right(byte_ends, offset)]

    return to_char


# windows up to this long are tried position by position; longer ones by one `search` from their start
_SHORT_WINDOW = 48


def _matches_from_windows(pattern: re.Pattern, text: str, windows) -> list[tuple[int, int]]:
    if windows is None:
        return []
    spans: list[tuple[int, int]] = []
    pos = 0
    i = 0
    while i < len(windows):
        start, end = windows[i]
        if end <= pos:
            i += 1
            continue
        q = max(start, pos)
        if end - q > _SHORT_WINDOW:
            # no match starts between pos and q, so this is the match finditer gives next
            found = pattern.search(text, q)
            if found is None:
                return spans
        else:
            found = None
            while q < end:
                found = pattern.match(text, q)
                if found is not None:
                    break
                q += 1
            if found is None:
                i += 1
                continue
        spans.append(found.span())
        pos = found.end()
    return spans


# Python's \s also matches these ASCII separators; Hyperscan's (and re.ASCII's) does not
_UNICODE_ONLY_SPACE = frozenset("\x1c\x1d\x1e\x1f")


def screenable(text: str) -> bool:
    """Whether a Unicode rule means the same on this text read with re.ASCII (as Hyperscan reads it): ASCII
    text without the separators only Unicode \\s matches (IGNORECASE folds no ASCII letter to another,
    \\w \\d \\b agree on ASCII)."""
    return text.isascii() and _UNICODE_ONLY_SPACE.isdisjoint(text)


def ascii_reading(pattern: re.Pattern) -> re.Pattern:
    """The same rule compiled with re.ASCII (what RegexScanner accelerates)."""
    return re.compile(pattern.pattern, (pattern.flags & ~re.UNICODE) | re.ASCII)


class FastPattern:
    """`pattern.finditer(text)`, the same match objects, found through Hyperscan: on text where the
    rule's ASCII reading means the same (`screenable`), RegexScanner gives the matches' spans and
    `pattern.match(text, start)` makes each (a match at `pos` sees the text before it, so it is the
    match finditer makes there); on other text, and without Hyperscan, `pattern.finditer` itself."""

    def __init__(self, pattern: re.Pattern):
        self.pattern = pattern
        self._unicode = not pattern.flags & re.ASCII
        self._scanner = RegexScanner([ascii_reading(pattern) if self._unicode else pattern], whole_rules=True)

    def finditer(self, text: str) -> list[re.Match]:
        if (self._unicode and not screenable(text)) or not self._scanner.accelerated[0]:
            return list(self.pattern.finditer(text))
        match = self.pattern.match
        return [match(text, start) for start, _ in self._scanner.finditer_all(text)[0]]

