"""Training (extractor/review/training.py): deterministic, a card and a sidecar, only trusted types."""

from __future__ import annotations

import json

import numpy as np
from review_helpers import FAST_GRID, VP_TEXT, write_corpus

from extractor.review import runtime, store, training


def test_training_is_deterministic(tmp_path, tiny_corpus):
    a, b = tmp_path / "a", tmp_path / "b"
    training.train(tiny_corpus, a, write_card=False, grid=FAST_GRID)
    training.train(tiny_corpus, b, write_card=False, grid=FAST_GRID)
    assert (a / store.MODEL_FILE).read_bytes() == (b / store.MODEL_FILE).read_bytes()
    assert store.sha256_of(a / store.MODEL_FILE) == store.sha256_of(b / store.MODEL_FILE)
    ma, mb = runtime.load_model(a), runtime.load_model(b)
    for head in store.HEADS:
        assert np.array_equal(ma.estimators[head][-1].coef_, mb.estimators[head][-1].coef_)
    assert ma.view(VP_TEXT) == mb.view(VP_TEXT)


def test_trained_model_writes_card_sidecar_and_holds_only_trusted_types(tiny_model):
    assert store.audit_types(tiny_model / store.MODEL_FILE) == []
    meta = json.loads((tiny_model / store.META_FILE).read_text())
    assert meta["sha256"] == store.sha256_of(tiny_model / store.MODEL_FILE)
    assert {"review_threshold", "base_rates", "versions", "hyperparameters"} <= set(meta)
    card = (tiny_model / "MODEL_CARD.md").read_text()
    for part in ("## Data", "## Features", "## Metrics", "## Reliability", "## Versions", "trained on"):
        assert part in card
    assert "PMMA cement was injected" not in card  # no note text


def test_cli_train_refuses_an_evaluation_split(tmp_path):
    from typer.testing import CliRunner

    from extractor.cli import app

    write_corpus(tmp_path / "test", n=3)
    result = CliRunner().invoke(app, ["train", str(tmp_path / "test"), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2
    assert not (tmp_path / "m" / store.MODEL_FILE).exists()
