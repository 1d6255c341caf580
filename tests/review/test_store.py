"""Safe storage (extractor/review/store.py): hash first, then an explicit type allow-list; never pickle."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from extractor.review import features, runtime, store

REPO = Path(__file__).resolve().parents[2]


def test_tampered_model_file_is_refused(tmp_path, tiny_model):
    bad = tmp_path / "bad"
    shutil.copytree(tiny_model, bad)
    data = bytearray((bad / store.MODEL_FILE).read_bytes())
    data[len(data) // 2] ^= 0x01
    (bad / store.MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(store.ModelIntegrityError, match="SHA-256"):
        runtime.load_model(bad)


def test_model_without_sidecar_is_refused(tmp_path, tiny_model):
    bad = tmp_path / "bad"
    shutil.copytree(tiny_model, bad)
    (bad / store.META_FILE).unlink()
    with pytest.raises(store.ModelIntegrityError, match="sidecar"):
        runtime.load_model(bad)


def _write_with_sidecar(obj, folder: Path) -> Path:
    import skops.io as sio

    folder.mkdir(parents=True, exist_ok=True)
    sio.dump(obj, folder / store.MODEL_FILE)
    meta = {"sha256": store.sha256_of(folder / store.MODEL_FILE), "feature_version": features.FEATURE_VERSION,
            "review_threshold": 0.8}
    (folder / store.META_FILE).write_text(json.dumps(meta))
    return folder


def test_types_outside_the_trusted_list_are_refused(tmp_path):
    """A correct hash does not make a file trusted: a scikit-learn class skops itself would accept by
    default, and a function reference, are both refused because they are not on our explicit list."""
    from sklearn.preprocessing import FunctionTransformer
    from sklearn.tree import DecisionTreeClassifier

    tree = DecisionTreeClassifier(random_state=0).fit([[0], [1]], [0, 1])
    folder = _write_with_sidecar({h: tree for h in store.HEADS}, tmp_path / "tree")
    with pytest.raises(store.UntrustedModelError, match="DecisionTreeClassifier"):
        runtime.load_model(folder)

    func = FunctionTransformer(func=np.exp)
    folder = _write_with_sidecar({h: func for h in store.HEADS}, tmp_path / "func")
    with pytest.raises(store.UntrustedModelError, match="exp"):
        runtime.load_model(folder)


def test_not_a_skops_file_is_refused(tmp_path):
    folder = tmp_path / "junk"
    folder.mkdir()
    (folder / store.MODEL_FILE).write_bytes(b"not a zip file at all")
    (folder / store.META_FILE).write_text(json.dumps({"sha256": store.sha256_of(folder / store.MODEL_FILE),
                                                  "feature_version": features.FEATURE_VERSION}))
    with pytest.raises(store.ModelIntegrityError, match="not a readable skops file"):
        runtime.load_model(folder)


def test_committed_model_matches_its_sidecar():
    folder = REPO / "models"
    if not (folder / store.MODEL_FILE).exists():
        pytest.skip("no committed model")
    model = runtime.load_model(folder)
    assert 0.0 < model.threshold < 1.0
    assert (folder / "MODEL_CARD.md").exists()
