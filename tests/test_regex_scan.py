"""The Hyperscan-assisted scanner must give exactly what `re.finditer` gives, rule by rule."""

import gc
import pickle
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractor import regex_scan
from extractor.pipeline import get_pipeline
from extractor.pipeline.medspacy_patches.regex_matcher import FastRegexMatcher
from extractor.regex_scan import RegexScanner, superset_pattern
from extractor.text import normalize

ROOT = Path(__file__).resolve().parents[1]
needs_hyperscan = pytest.mark.skipif(regex_scan.hyperscan is None, reason="hyperscan not installed")


def pipeline_rule_sets() -> list[list[re.Pattern]]:
    """The compiled rules of every regex matcher in the pipeline (sections, targets, context)."""
    get_pipeline()
    matchers = {id(m): m for m in gc.get_objects() if isinstance(m, FastRegexMatcher)}
    sets = [[p for ps in m._patterns.values() for p in ps] for m in matchers.values()]
    return [s for s in sets if s]


RULE_SETS = pipeline_rule_sets()
SCANNERS = {id(patterns): RegexScanner(patterns) for patterns in RULE_SETS}


def finditer_spans(patterns, text):
    return [[m.span() for m in p.finditer(text)] for p in patterns]


@pytest.mark.parametrize(
    "pattern, expected",
    [
        (r"(?<!vit\s)\bT12(?=\s)", r"(?:)\bT12(?:)"),
        (r"(?:(?<=^)|(?<=\n))heading:", r"(?:(?:)|(?:))heading:"),
        (r"cement(?!\s+(?:leak|extravasation))", r"cement(?:)"),
        (r"[(?=]x", r"[(?=]x"),  # a class, not a lookahead
        (r"\(?=x", r"\(?=x"),  # an escaped parenthesis
        (r"[^)\n]{,60}", r"[^)\n]{0,60}"),  # Python's {,n} means {0,n}; PCRE reads it as text
        (r"(?>ab)c", r"(?:ab)c"),
    ],
)
def test_superset_pattern_removes_lookarounds_only(pattern, expected):
    assert superset_pattern(pattern) == expected


@pytest.mark.parametrize(
    "pattern",
    [r"(a)\1", r"(?P<x>a)(?P=x)", r"(a)?(?(1)b|c)", r"(?a)\w+", r"(?x) a b", r"\N{BULLET} x", r"[[:alpha:]]+"],
)
def test_superset_pattern_refuses_what_it_cannot_translate(pattern):
    assert superset_pattern(pattern) is None


@needs_hyperscan
def test_only_rules_that_mean_the_same_to_both_engines_are_accelerated():
    patterns = [
        re.compile(r"\bcement\b", re.IGNORECASE | re.ASCII),  # accelerated
        re.compile(r"\bcement\b", re.IGNORECASE),  # Unicode classes: re alone
        re.compile(r"cement  # a comment", re.ASCII | re.VERBOSE),  # verbose: re alone
        re.compile(r"x*", re.ASCII),  # can match the empty string: re alone
    ]
    scanner = RegexScanner(patterns)
    assert scanner.accelerated == [True, False, False, False]
    text = "Cement, CEMENT; x cementing xx"
    assert scanner.finditer_all(text) == finditer_spans(patterns, text)


def corpus_texts():
    paths = sorted((ROOT / "corpora").glob("*/*.txt")) + sorted((ROOT / "examples").glob("*.txt"))
    return [normalize(p.read_text(encoding="utf-8")) for p in paths]


@needs_hyperscan
def test_every_pipeline_rule_is_accelerated():
    assert len(RULE_SETS) == 3
    for patterns in RULE_SETS:
        assert all(RegexScanner(patterns).accelerated)


def test_scanner_equals_finditer_on_the_corpora():
    texts = corpus_texts()
    assert len(texts) > 100
    for patterns in RULE_SETS:
        scanner = RegexScanner(patterns)
        for text in texts:
            assert scanner.finditer_all(text) == finditer_spans(patterns, text)


def test_plain_path_equals_finditer():
    text = corpus_texts()[0]
    for patterns in RULE_SETS:
        scanner = RegexScanner(patterns, use_hyperscan=False)
        assert not any(scanner.accelerated)
        assert scanner.finditer_all(text) == finditer_spans(patterns, text)


# fragments that start, end or break the rules: level names, cues, negations, headings, line starts,
# punctuation, non-ASCII characters (UTF-8 offsets differ from character offsets)
FRAGMENTS = [
    "T12", "L1", "T-12", "t 12", "L1/L2", "sacrum", "vit", "vitamin", "D", "no", "not", "No ", "prior",
    "history of", "cement", "PMMA", "bone cement", "leak", "balloon", "inflated", "kyphoplasty",
    "vertebroplasty", "VP", "shunt", "biopsy", "bilateral", "left", "transpedicular", "fluoro", "CT",
    "CT guided", "procedure", "PROCEDURE", "Procedure performed", "FINDINGS", "impression", "plan",
    "will", "be", "treated", "mL", "3.5", "cc", "(", ")", ":", ";", ".", ". ", "  ", " ", " ", "\n",
    "\n\n", "\t", "-", "--", "/", "[ ]", "[x]", "°", "ü", "→", "μ", "é",
]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=0, max_size=60))
def test_scanner_equals_finditer_on_random_texts(fragments):
    text = "".join(fragments)
    for patterns in RULE_SETS:
        assert SCANNERS[id(patterns)].finditer_all(text) == finditer_spans(patterns, text)


def test_scanner_pickles_and_rebuilds():
    patterns = RULE_SETS[0]
    scanner = RegexScanner(patterns)
    text = corpus_texts()[1]
    before = scanner.finditer_all(text)
    clone = pickle.loads(pickle.dumps(scanner))
    assert clone.finditer_all(text) == before == finditer_spans(patterns, text)


@needs_hyperscan
def test_a_damaged_cache_file_is_ignored_and_rewritten(tmp_path, monkeypatch):
    monkeypatch.setenv("SPINECODE_CACHE_DIR", str(tmp_path))
    patterns = [re.compile(r"\bcement\b(?!\s+leak)", re.IGNORECASE | re.ASCII), re.compile(r"(?<=\n)T\d+:", re.ASCII)]
    text = "cement leak\nT12: cement injected"
    assert RegexScanner(patterns).finditer_all(text) == finditer_spans(patterns, text)
    (cached,) = tmp_path.glob("*.hsdb")
    cached.write_bytes(b"\x00" * 40 + cached.read_bytes()[40:])
    assert RegexScanner(patterns).finditer_all(text) == finditer_spans(patterns, text)
    (rewritten,) = tmp_path.glob("*.hsdb")
    assert rewritten.read_bytes()[:8] != b"\x00" * 8


@needs_hyperscan
def test_an_unwritable_cache_is_not_fatal(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("SPINECODE_CACHE_DIR", str(blocker / "sub"))  # cannot be created
    patterns = [re.compile(r"\bno\s+biopsy\b", re.IGNORECASE | re.ASCII)]
    assert RegexScanner(patterns).finditer_all("No biopsy. no  biopsy") == [[(0, 9), (11, 21)]]


@needs_hyperscan
def test_records_are_the_same_without_hyperscan(extractor):
    """Where the hyperscan package is missing (non-x86 machines), `re` alone gives the same records."""
    import json
    import subprocess
    import sys

    paths = sorted((ROOT / "corpora" / "test").glob("*.txt"))[:15]
    code = (
        "import json, sys\n"
        "sys.modules['hyperscan'] = None  # import hyperscan now fails\n"
        "from extractor import Extractor\n"
        "from extractor import regex_scan\n"
        "assert regex_scan.hyperscan is None\n"
        "paths = sys.argv[1:]\n"
        "items = [(p, open(p, encoding='utf-8').read()) for p in paths]\n"
        "print(json.dumps([r.to_dict() for r in Extractor().pipe(items)], sort_keys=True))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, *map(str, paths)], capture_output=True, text=True, check=True)
    items = [(str(p), p.read_text(encoding="utf-8")) for p in paths]
    expected = json.dumps([r.to_dict() for r in extractor.pipe(items)], sort_keys=True)
    assert out.stdout.strip() == expected


def test_threads_share_a_scanner():
    """Hyperscan scratch space is per thread; results do not depend on which thread scans."""
    from concurrent.futures import ThreadPoolExecutor

    patterns = RULE_SETS[1]
    scanner = RegexScanner(patterns)
    texts = corpus_texts()[:40]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(scanner.finditer_all, texts))
    assert results == [finditer_spans(patterns, text) for text in texts]


@pytest.mark.parametrize(
    "expression, branches",
    [
        (r"a|b", ["a", "b"]),
        (r"(?:a|b)c|d", ["(?:a|b)c", "d"]),  # a '|' inside a group is not top level
        (r"[|]x|\|y|z", ["[|]x", r"\|y", "z"]),  # nor one in a class or escaped
        (r"abc", ["abc"]),
    ],
)
def test_top_level_branches_split_only_at_the_top_level(expression, branches):
    assert regex_scan._top_level_branches(expression) == branches


# an alternation Hyperscan refuses whole (start tracking over "{0,60}" is too large)
REFUSED_WHOLE = re.compile(
    r"\b(?:nurse|rn)\b[^.;]{0,60}\bmonitor|\bsedation\b[^.;]{0,40}?\bstart\s*\d{2}:\d{2}[^.;]{0,40}?\bend\s*\d{2}:\d{2}"
    r"|\bdedicated\s+to\s+(?:\w+\s+){0,3}(?:monitoring|sedation)\b",
    re.IGNORECASE | re.ASCII,
)
REFUSED_TEXTS = [
    "The nurse continuously monitored vitals. RN monitor. Sedation start 09:12, sedation end 09:40.",
    "Sedation was started 09:12 and the end came 09:40; nurseries monitor; a nurse. monitor",
    "An RN dedicated to the patient's monitoring was present; dedicated to sedation.",
]


@needs_hyperscan
def test_a_refused_alternation_is_scanned_by_its_branches_leading_parts():
    form = regex_scan._hyperscan_form(REFUSED_WHOLE)
    assert not regex_scan._compiles((0, form, regex_scan._hyperscan_flags(REFUSED_WHOLE)))
    scanner = RegexScanner([REFUSED_WHOLE])
    assert scanner.accelerated == [True]
    for text in REFUSED_TEXTS + corpus_texts()[:60]:
        assert scanner.finditer_all(text) == finditer_spans([REFUSED_WHOLE], text)


def test_may_match_is_true_wherever_search_finds_a_match():
    texts = REFUSED_TEXTS + [t[i : i + 200] for t in corpus_texts()[:80] for i in range(0, len(t), 150)]
    for patterns in RULE_SETS + [[REFUSED_WHOLE]]:
        scanner = SCANNERS.get(id(patterns)) or RegexScanner(patterns)
        said_no = 0
        for text in texts:
            for pattern, possible in zip(patterns, scanner.may_match(text)):
                if pattern.search(text):
                    assert possible, (pattern.pattern[:60], text)
                said_no += not possible
        if regex_scan.hyperscan is not None:
            assert said_no > 0  # the screen spares some searches


def _match_facts(matches):
    return [(m.span(), m.groups(), m.groupdict()) for m in matches]


FAST_PATTERNS = [
    re.compile(r"\b(?P<p>[ctld])\s?-?\s?(?P<n>\d{1,2})\b|\b(?P<o>first|second)\s+(?P<r>thoracic|lumbar)\b"),  # Unicode
    re.compile(r"(?<!vit\s)\b(?:date\s+of\s+service|dos)\b\s*:?\s*(?P<date>\d{1,2}/\d{1,2}/\d{2,4})", re.IGNORECASE),
    re.compile(r"\bcement(?!\s+leak)\w*", re.IGNORECASE | re.ASCII),
]


@pytest.mark.parametrize("pattern", FAST_PATTERNS, ids=["levels", "dates", "ascii"])
def test_fast_pattern_gives_finditers_matches_groups_and_all(pattern):
    fast = regex_scan.FastPattern(pattern)
    assert fast._scanner.accelerated == [regex_scan.hyperscan is not None]  # the fast path is the one tested
    texts = corpus_texts()[:120] + [t.lower() for t in corpus_texts()[:40]] + [
        "DOS: 3/4/16, date of service 03/04/2016; vit dos 1/1/11",
        "T12 and L1, first lumbar; cement and cementing, cement leak",
        "Sédation: T12 – L1; ſecond K",  # not ASCII: finditer itself
        "T12\x1cL1 dos\x1c3/4/16",  # a separator only Unicode \s matches
    ]
    for text in texts:
        assert _match_facts(fast.finditer(text)) == _match_facts(pattern.finditer(text))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(FRAGMENTS + ["dos", "DOS:", "3/4/16", "date of service", "first", "lumbar"]),
                min_size=0, max_size=40))
def test_fast_pattern_equals_finditer_on_random_texts(fragments):
    text = "".join(fragments)
    for pattern in FAST_PATTERNS:
        assert _match_facts(regex_scan.FastPattern(pattern).finditer(text)) == _match_facts(pattern.finditer(text))
