"""The plain-JSON runtime copy of the model gives the skops model's probabilities and is checked."""

import shutil
from pathlib import Path

import pytest

from extractor.review.runtime import load_model, load_runtime
from extractor.review.store import ModelIntegrityError

MODELS = Path(__file__).resolve().parents[2] / "models"
NOTES = [
    "PROCEDURE: Bilateral balloon kyphoplasty of L1, 4 mL PMMA. No biopsy.",
    "Consult: L2 fracture; we will consider vertebroplasty next week.",
    "T12 and L1 vertebroplasty, left unipedicular at T12; core biopsy of L1 sent to pathology.",
]


@pytest.fixture(scope="module")
def both():
    if not (MODELS / "confidence.runtime.json").is_file():
        pytest.skip("no committed model")
    return load_model(MODELS), load_runtime(MODELS)


def test_runtime_matches_skops_probabilities(both):
    full, fast = both
    for text in NOTES:
        a, b = full.view(text), fast.view(text)
        assert a.p_performed == pytest.approx(b.p_performed, abs=1e-9)
        assert a.p_level.keys() == b.p_level.keys()
        for level in a.p_level:
            assert a.p_level[level] == pytest.approx(b.p_level[level], abs=1e-9)
            assert a.p_biopsy[level] == pytest.approx(b.p_biopsy[level], abs=1e-9)
            for cls, p in a.p_technique[level].items():
                assert p == pytest.approx(b.p_technique[level][cls], abs=1e-9)


def test_tampered_runtime_file_is_refused(tmp_path):
    if not (MODELS / "confidence.runtime.json").is_file():
        pytest.skip("no committed model")
    for name in ("confidence.skops", "confidence.json", "confidence.runtime.json"):
        shutil.copy(MODELS / name, tmp_path / name)
    runtime = tmp_path / "confidence.runtime.json"
    runtime.write_text(runtime.read_text().replace("0.", "0.9", 1))
    with pytest.raises(ModelIntegrityError):
        load_runtime(tmp_path)


def test_rows_sharing_the_note_row_get_the_same_probabilities_read_once_or_each_time():
    if not (MODELS / "confidence.runtime.json").is_file():
        pytest.skip("no committed model")
    from extractor.review.features import featurize

    head = load_runtime(MODELS).estimators["technique"]
    tokens = sorted(head.vocabulary)
    for text in NOTES + [p.read_text(encoding="utf-8") for p in sorted((MODELS.parent / "corpora").glob("test/*.txt"))]:
        f = featurize(text)
        # the real rows, plus one that repeats tokens of the shared start and one that does not start with it
        docs = list(f.technique_docs.values()) + [f.note_doc + " " + " ".join(f.note_doc.split()[:3] + tokens[:2]),
                                                  "region_T " + f.note_doc]
        assert head.predict_proba(docs, prefix=f.note_doc) == head.predict_proba(docs)  # exactly, not approx


def test_heads_fitted_on_the_same_rows_weigh_a_row_once_with_the_same_probabilities():
    if not (MODELS / "confidence.runtime.json").is_file():
        pytest.skip("no committed model")
    shared = load_runtime(MODELS)
    level, biopsy = shared.estimators["level"], shared.estimators["biopsy"]
    assert level.shares_features(biopsy)  # same vocabulary and idf in the model file: one vectoriser
    assert not level.shares_features(shared.estimators["performed"])
    apart = load_runtime(MODELS)
    apart.estimators["biopsy"].vocabulary = dict(apart.estimators["biopsy"].vocabulary)  # each head weighs its rows
    assert not apart.estimators["level"].shares_features(apart.estimators["biopsy"])
    texts = NOTES + [p.read_text(encoding="utf-8") for p in sorted((MODELS.parent / "corpora").glob("test/*.txt"))]
    for text in texts:
        a, b = shared.view(text), apart.view(text)
        assert (a.p_level, a.p_biopsy, a.p_technique, a.p_performed) == (b.p_level, b.p_biopsy, b.p_technique,
                                                                        b.p_performed)  # exactly, not approx
