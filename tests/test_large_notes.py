"""Notes over the character limit: one NoteTooLarge record (limit in the message, no note text) in the
library, the CLI and batch; a note spaCy rejects never costs the other notes of a `pipe` call."""

import json
import subprocess
import sys

import pytest

from extractor.api import MAX_CHARS, Extractor

SMALL = "Vertebroplasty of T12 with 3 mL PMMA under fluoroscopy."
# 1.5 million characters: over the limit, under the readers' 5 MB byte limit
LARGE = ("Qzxlarge note body. " * 75_001)[: MAX_CHARS + 500_000]


def _assert_too_large(rec: dict) -> None:
    assert rec["error"]["type"] == "NoteTooLarge"
    assert str(MAX_CHARS) in rec["error"]["message"]
    assert "Qzx" not in json.dumps(rec)


@pytest.fixture(scope="module")
def extractor():
    return Extractor()


def test_extract_large_note_is_one_error_record(extractor):
    _assert_too_large(extractor.extract(LARGE, note_id="big").to_dict())


@pytest.mark.parametrize("n_process", [1, 2])
def test_pipe_keeps_the_other_notes(extractor, n_process):
    recs = [r.to_dict() for r in extractor.pipe([("a", SMALL), ("big", LARGE), ("c", SMALL)], n_process=n_process)]
    assert [r["note_id"] for r in recs] == ["a", "big", "c"]
    _assert_too_large(recs[1])
    assert [p["level"] for p in recs[0]["procedures"]] == ["T12"] == [p["level"] for p in recs[2]["procedures"]]


def test_pipe_survives_a_note_spacy_rejects(extractor):
    # a pipeline limit below the note length makes spaCy raise inside nlp.pipe for that note only
    saved = extractor.nlp.max_length
    extractor.nlp.max_length = len(SMALL) + 10
    try:
        recs = [r.to_dict() for r in extractor.pipe([("a", SMALL), ("b", SMALL + " x" * 20), ("c", SMALL)])]
    finally:
        extractor.nlp.max_length = saved
    assert [r["note_id"] for r in recs] == ["a", "b", "c"]
    assert recs[1]["error"]["type"] == "ProcessingError"
    assert "error" not in recs[0] and "error" not in recs[2]


def _run(*args):
    return subprocess.run([sys.executable, "-m", "extractor", *args], capture_output=True, text=True, check=False)


def test_cli_extract_and_batch_report_note_too_large(tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "big.txt").write_text(LARGE)
    (notes / "small.txt").write_text(SMALL)
    one = _run("extract", str(notes / "big.txt"))
    assert one.returncode == 1, one.stderr
    _assert_too_large(json.loads(one.stdout))
    out = tmp_path / "out.jsonl"
    res = _run("batch", str(notes), "--out", str(out), "--quiet")
    assert res.returncode in (0, 1), res.stderr
    recs = {r["note_id"]: r for r in map(json.loads, out.read_text().splitlines())}
    _assert_too_large(recs["big"])
    assert "error" not in recs["small"]


def test_bad_date_of_service_is_a_usage_error(extractor):
    with pytest.raises(ValueError, match="ISO date"):
        extractor.extract(SMALL, date_of_service="June 30")
    out = _run("extract", "-", "--date-of-service", "June 30")
    assert out.returncode == 2 and "--date-of-service" in out.stderr and not out.stdout


@pytest.mark.parametrize("n_process", [1, 2])
@pytest.mark.parametrize("bad", ["2013-02-30", "31/12/2014", 20140101])
def test_pipe_bad_date_of_service_is_one_error_record(extractor, n_process, bad):
    items = [("a", SMALL, "2014-06-30"), ("bad", SMALL, bad), ("c", SMALL)]
    recs = [r.to_dict() for r in extractor.pipe(items, n_process=n_process)]
    assert [r["note_id"] for r in recs] == ["a", "bad", "c"]
    assert recs[1]["error"] == {"type": "InvalidDateOfService",
                                "message": "date_of_service is not an ISO date (YYYY-MM-DD)"}
    assert "error" not in recs[0] and "error" not in recs[2]
    assert recs[0]["date_of_service"]["value"] == "2014-06-30"


def test_batch_chunk_with_a_bad_date_keeps_the_other_notes(extractor):
    from extractor.batch import process_notes
    from extractor.readers import SourceNote

    notes = [SourceNote("a", SMALL), SourceNote("bad", SMALL, "2014-13-45"), SourceNote("c", SMALL)]
    recs = process_notes(extractor, notes)
    assert [r["note_id"] for r in recs] == ["a", "bad", "c"]
    assert recs[1]["error"]["type"] == "InvalidDateOfService" and "2014-13" not in recs[1]["error"]["message"]
    assert [p["level"] for p in recs[0]["procedures"]] == ["T12"] == [p["level"] for p in recs[2]["procedures"]]
