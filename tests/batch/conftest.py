"""Fixtures for the batch tests (helpers live in batch_helpers.py)."""

from __future__ import annotations

import io

import pytest


@pytest.fixture(scope="session")
def extractor():
    """One pipeline for the test process (run_batch in-process reuses it: get_pipeline is cached)."""
    from extractor import Extractor

    return Extractor()


@pytest.fixture()
def run(extractor, monkeypatch):
    """run(input, out, **options) -> (exit code, stderr text), in this process."""
    from extractor.batch import run_batch

    monkeypatch.delenv("CI", raising=False)

    def _run(input, out, **kw):
        err = io.StringIO()
        kw.setdefault("progress", "none")
        code = run_batch(str(input), str(out), stderr=err, **kw)
        return code, err.getvalue()

    return _run
