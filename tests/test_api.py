"""Foundation: public API, contract, one pipeline per process, picklable components."""

import pickle

import pytest

from extractor import Extractor, extract
from extractor.contract import validate

NOTE = (
    "PROCEDURE: Bilateral balloon kyphoplasty of L1.\n"
    "TECHNIQUE: Under biplane fluoroscopy, working cannulas were placed through both L1 pedicles. "
    "Balloons were inflated, then 4.0 mL of PMMA was injected. No biopsy was obtained.\n"
)


def test_extract_returns_contract_record():
    rec = extract(NOTE, note_id="n1").to_dict()
    validate(rec)
    assert rec["note_id"] == "n1"
    assert [p["level"] for p in rec["procedures"]] == ["L1"]
    assert rec["procedures"][0]["technique"] == "augmentation"
    assert [(c["code"], c["units"]) for c in rec["codes"]] == [("22514", 1)]


def test_evidence_offsets_point_into_input():
    rec = extract(NOTE).to_dict()
    for p in rec["procedures"]:
        assert p["evidence"]
        for e in p["evidence"]:
            assert NOTE[e["start"] : e["end"]] == e["text"]


def test_pipeline_is_built_once_per_process():
    a, b = Extractor(), Extractor(code_set="legacy")
    assert a.nlp is b.nlp


def test_pipeline_pickles():
    nlp = Extractor().nlp
    clone = pickle.loads(pickle.dumps(nlp))
    assert clone.pipe_names == nlp.pipe_names


def test_pipe_two_processes_same_as_one():
    texts = [(f"n{i}", NOTE.replace("L1", lvl)) for i, lvl in enumerate(["L1", "T12", "L3", "T8", "L2"])]
    one = [r.to_dict() for r in Extractor().pipe(texts, n_process=1, batch_size=2)]
    two = [r.to_dict() for r in Extractor().pipe(texts, n_process=2, batch_size=2)]
    assert one == two
    assert [r["note_id"] for r in one] == [t[0] for t in texts]


def test_same_note_same_output_byte_for_byte():
    import json

    assert json.dumps(extract(NOTE).to_dict()) == json.dumps(extract(NOTE).to_dict())


@pytest.mark.parametrize("bad", ["", "   \n\t ", 123])
def test_bad_input_gives_error_record(bad):
    rec = extract(bad, note_id="x").to_dict()
    validate(rec)
    assert set(rec) == {"schema_version", "note_id", "error"}
    assert rec["error"]["type"]


def test_legacy_code_set_adds_imaging_per_body():
    rec = extract(NOTE, code_set="legacy").to_dict()
    assert rec["code_set"] == "legacy"
    assert sorted((c["code"], c["units"]) for c in rec["codes"]) == [("22524", 1), ("72291", 1)]


def test_unknown_code_set_is_refused():
    with pytest.raises(ValueError):
        Extractor(code_set="2009")


def test_extraction_imports_no_heavy_module():
    """The one-note CLI's start-up: QuickUMLS (→ nltk → scipy) and scikit-learn/skops stay unloaded."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from extractor import extract\n"
        "extract('Vertebroplasty of T12 with 3 mL PMMA.')\n"
        "heavy = ('quickumls', 'nltk', 'scipy', 'sklearn', 'skops', 'pandas')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
