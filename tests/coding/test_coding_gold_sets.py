"""Every gold file's `codes` and `legacy_codes` must equal what the mapper gives for its facts.

- the shared devset (../shared/devset beside the repository): skipped when absent;
- the project's own corpora (corpora/*/*.gold.json): skipped while there are none.
A failure here is either a mapper bug or an annotation error in the gold file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor.coding import assign_codes
from extractor.gold import codes_as_pairs, gold_to_facts, load_gold

REPO = Path(__file__).resolve().parents[2]
DEVSET = REPO.parent / "shared" / "devset"
DEV_FILES = sorted(DEVSET.glob("*.gold.json")) if DEVSET.is_dir() else []
CORPUS_FILES = sorted((REPO / "corpora").glob("*/*.gold.json"))


def _check(path: Path) -> None:
    gold = load_gold(path)
    facts = gold_to_facts(gold)
    problems = []
    for key, code_set in (("codes", "current"), ("legacy_codes", "legacy")):
        if key not in gold:
            continue
        got = codes_as_pairs(assign_codes(facts, code_set).codes)
        expected = codes_as_pairs(gold[key])
        if got != expected:
            problems.append(f"{key}: expected {expected}, got {got}")
    assert not problems, f"{path.name}: " + "; ".join(problems)


@pytest.mark.skipif(not DEV_FILES, reason=f"shared devset not found at {DEVSET}")
@pytest.mark.parametrize("path", DEV_FILES, ids=[p.name for p in DEV_FILES])
def test_devset_gold_codes(path):
    _check(path)


@pytest.mark.skipif(not DEV_FILES, reason=f"shared devset not found at {DEVSET}")
def test_devset_is_complete():
    assert len(DEV_FILES) >= 16
    assert all("codes" in load_gold(p) and "legacy_codes" in load_gold(p) for p in DEV_FILES)


@pytest.mark.skipif(not CORPUS_FILES, reason="no corpora/*/*.gold.json yet")
@pytest.mark.parametrize("path", CORPUS_FILES, ids=[f"{p.parent.name}/{p.name}" for p in CORPUS_FILES])
def test_corpus_gold_codes(path):
    _check(path)
