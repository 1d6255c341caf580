"""The process-wide model (extractor/review/runtime.py): loaded once, and the fallback when absent or refused."""

from __future__ import annotations

import shutil

from review_helpers import VP_TEXT, _vp_facts

from extractor.coding import assign_codes
from extractor.review import runtime, store
from extractor.review.confidence import RULE_ONLY_CAP, score


def test_model_is_loaded_once_per_process(monkeypatch, tiny_model):
    monkeypatch.setenv(runtime.MODEL_DIR_ENV, str(tiny_model))
    calls = []
    real = runtime.load_runtime
    monkeypatch.setattr(runtime, "load_runtime", lambda d=None: calls.append(d) or real(d))
    facts = _vp_facts()
    for _ in range(3):
        score(facts, assign_codes(facts), VP_TEXT)
    first, _ = runtime.get_model()
    second, _ = runtime.get_model()
    assert first is second and len(calls) == 1


def test_absent_model_falls_back_to_rules_with_a_warning(monkeypatch, tmp_path):
    monkeypatch.setenv(runtime.MODEL_DIR_ENV, str(tmp_path / "nowhere"))
    facts = _vp_facts()
    confidence, review, warnings = score(facts, assign_codes(facts), VP_TEXT)
    assert "confidence model not found; rule-based confidence only" in warnings
    assert review is True  # the model's agreement is part of the promise
    assert 0.0 <= confidence <= RULE_ONLY_CAP


def test_tampered_model_at_extraction_falls_back_with_the_reason(monkeypatch, tmp_path, tiny_model):
    bad = tmp_path / "bad"
    shutil.copytree(tiny_model, bad)
    (bad / store.MODEL_FILE).write_bytes((bad / store.MODEL_FILE).read_bytes() + b"x")
    monkeypatch.setenv(runtime.MODEL_DIR_ENV, str(bad))
    facts = _vp_facts()
    _, review, warnings = score(facts, assign_codes(facts), VP_TEXT)
    assert review is True
    assert any("confidence model refused (ModelIntegrityError" in w for w in warnings)
