"""Fixtures for the review-stage tests (helpers live in review_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from review_helpers import FAST_GRID, write_corpus


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus") / "train")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, tiny_corpus) -> Path:
    from extractor.review.training import train

    out = tmp_path_factory.mktemp("model")
    train(tiny_corpus, out, grid=FAST_GRID)
    return out


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    from extractor.review.runtime import clear_cache

    clear_cache()
    yield
    clear_cache()
