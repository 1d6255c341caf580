"""run_batch end to end, in this process: hostile folders, every input and output format, exit codes,
progress and summary, interruption, --resume."""

from __future__ import annotations

import csv
import io
import json

import pytest
from batch_helpers import (
    CANARY,
    NOTES,
    interrupt_at_merge,
    note_set,
    read_jsonl,
    reference_records,
    write_folder,
    write_jsonl,
)
from test_batch_readers import make_hostile_folder

from extractor import Extractor
from extractor import batch as batch_module
from extractor.batch import EXIT_ERRORS, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, Progress, progress_mode
from extractor.contract import validate
from extractor.writers import CSV_COLUMNS

EXPECTED_ERRORS = {
    "empty": "EmptyNote",
    "whitespace": "EmptyNote",
    "binary": "UndecodableNote",
    "undecodable": "UndecodableNote",
    "too_large": "NoteTooLarge",
    "self_loop": "UnreadableNote",
    "dangling": "UnreadableNote",
    "fifo": "UnreadableNote",
}


def test_hostile_folder(run, tmp_path):
    root = make_hostile_folder(tmp_path / "in")
    out = tmp_path / "out" / "o.jsonl"  # the output folder is created
    code, err = run(root, out, max_bytes=2000, progress="lines")
    assert code == EXIT_ERRORS
    recs = read_jsonl(out)
    ids = [r["note_id"] for r in recs]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    by_id = {r["note_id"]: r for r in recs}
    for note_id, kind in EXPECTED_ERRORS.items():
        if note_id in by_id or note_id != "fifo":
            assert by_id[note_id]["error"]["type"] == kind, note_id
    for good in ("good", "linked", "bom", "cp1252", "sub/nested"):
        assert "error" not in by_id[good], good
    assert any("cp1252" in w for w in by_id["cp1252"]["warnings"])
    assert not any("UTF-8" in w for w in by_id["bom"]["warnings"])
    for rec in recs:
        validate(rec)
        if "error" in rec:
            assert CANARY not in rec["error"]["message"]
    assert CANARY not in err
    assert f"{len(recs)} notes" in err and "UndecodableNote 2" in err and "review:" in err and "codes:" in err


def test_formats_match_extractor_pipe(run, extractor, tmp_path):
    notes = note_set(12)
    expected = reference_records(extractor, notes)
    rows = [{"note_id": i, "text": t} for i, t in notes]

    # JSONL in, CSV out
    write_jsonl(tmp_path / "in.jsonl", rows)
    assert run(tmp_path / "in.jsonl", tmp_path / "o.csv")[0] == EXIT_OK
    with open(tmp_path / "o.csv", encoding="utf-8", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0] == list(CSV_COLUMNS) and len(table) == 13
    assert [r[0] for r in table[1:]] == [i for i, _ in notes]
    assert [r[3] for r in table[1:]] == [";".join(f"{c['code']}x{c['units']}" for c in e["codes"]) for e in expected]

    # CSV in, JSONL out
    with open(tmp_path / "in.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["note_id", "text"])
        w.writeheader()
        w.writerows(rows)
    assert run(tmp_path / "in.csv", tmp_path / "o.jsonl")[0] == EXIT_OK
    assert read_jsonl(tmp_path / "o.jsonl") == expected

    # a folder in, JSONL out (ids are the file names)
    write_folder(tmp_path / "dir", notes)
    assert run(tmp_path / "dir", tmp_path / "o2.jsonl")[0] == EXIT_OK
    assert read_jsonl(tmp_path / "o2.jsonl") == expected


def test_parquet_in_and_out(run, extractor, tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    notes = note_set(12)
    expected = reference_records(extractor, notes)
    pq.write_table(pa.Table.from_pylist([{"note_id": i, "text": t} for i, t in notes]), tmp_path / "in.parquet")
    assert run(tmp_path / "in.parquet", tmp_path / "o.jsonl")[0] == EXIT_OK
    assert read_jsonl(tmp_path / "o.jsonl") == expected
    assert run(tmp_path / "in.parquet", tmp_path / "o.parquet")[0] == EXIT_OK
    table = pq.read_table(tmp_path / "o.parquet")
    assert [json.loads(r) for r in table.column("result").to_pylist()] == expected
    assert table.column("note_id").to_pylist() == [i for i, _ in notes]


def test_stdin_and_date_column(run, extractor, tmp_path):
    rows = [{"id": "a", "body": NOTES[0], "day": "2014-06-30"}, {"id": "b", "body": NOTES[0], "day": "2016-01-01"}]
    data = io.BytesIO("".join(json.dumps(r) + "\n" for r in rows).encode())
    code, _ = run("-", tmp_path / "o.jsonl", stdin=data, id_col="id", text_col="body", date_col="day",
                  code_set="auto")
    assert code == EXIT_OK
    recs = read_jsonl(tmp_path / "o.jsonl")
    assert [r["code_set"] for r in recs] == ["legacy", "current"]
    assert [r["date_of_service"]["value"] for r in recs] == ["2014-06-30", "2016-01-01"]
    assert [r["date_of_service"]["source"] for r in recs] == ["caller", "caller"]
    auto = Extractor(code_set="auto")
    assert recs[0] == auto.extract(NOTES[0], note_id="a", date_of_service="2014-06-30").to_dict()


def test_usage_errors_exit_2_and_write_nothing(run, tmp_path):
    write_folder(tmp_path / "dir", note_set(2))
    (tmp_path / "t.csv").write_text("id,text\n1,x\n", encoding="utf-8")
    cases = [
        {"input": tmp_path / "missing", "out": tmp_path / "o.jsonl"},
        {"input": tmp_path / "t.csv", "out": tmp_path / "o.jsonl"},  # no note_id column
        {"input": tmp_path / "dir", "out": tmp_path / "o.csv", "resume": True},  # resume is JSONL only
        {"input": tmp_path / "dir", "out": tmp_path / "o.jsonl", "code_set": "nonsense"},
        {"input": tmp_path / "dir", "out": tmp_path / "o.jsonl", "fmt": "xml"},
        {"input": tmp_path / "dir", "out": tmp_path / "dir"},  # OUT is a folder
        {"input": tmp_path / "dir", "out": tmp_path / "t.csv" / "o.jsonl"},  # cannot create its folder
    ]
    for case in cases:
        code, err = run(case.pop("input"), case.pop("out"), **case)
        assert code == EXIT_USAGE, err
        assert err.startswith("spinecode batch: error: ")
    assert not (tmp_path / "o.jsonl").exists() and not (tmp_path / "o.csv").exists()


def test_output_write_error_exits_2(run, tmp_path, monkeypatch):
    write_folder(tmp_path / "dir", note_set(40))
    calls = {"n": 0}
    from extractor.writers import JsonlWriter, OutputError

    original = JsonlWriter.write

    def failing_write(self, record):
        calls["n"] += 1
        if calls["n"] > 20:
            raise OutputError(f"cannot write {self.path} (No space left on device)")
        original(self, record)

    monkeypatch.setattr(JsonlWriter, "write", failing_write)
    code, err = run(tmp_path / "dir", tmp_path / "o.jsonl")
    assert code == EXIT_USAGE and "No space left" in err and "--resume" in err
    assert len(read_jsonl(tmp_path / "o.jsonl")) == 20


def _interrupt_after(monkeypatch, chunks: int):
    """Make the batch see Ctrl-C after `chunks` chunks."""
    real_merge = batch_module.merge_records
    state = {"n": 0}

    def merge(notes, results):
        state["n"] += 1
        if state["n"] > chunks:
            raise KeyboardInterrupt
        return real_merge(notes, results)

    monkeypatch.setattr(batch_module, "merge_records", merge)


def test_interrupted_csv_keeps_the_old_output(run, tmp_path, monkeypatch):
    write_folder(tmp_path / "dir", note_set(64))
    out = tmp_path / "o.csv"
    out.write_text("old\n", encoding="utf-8")
    _interrupt_after(monkeypatch, 2)
    code, err = run(tmp_path / "dir", out)
    assert code == EXIT_INTERRUPTED and "was not changed" in err
    assert out.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir", "o.csv"]


def test_interrupt_then_resume_gives_the_uninterrupted_output(run, extractor, tmp_path, monkeypatch):
    notes = note_set(70)
    write_folder(tmp_path / "dir", notes)
    (tmp_path / "dir" / "empty.txt").write_bytes(b"")
    out = tmp_path / "o.jsonl"
    code, _ = run(tmp_path / "dir", tmp_path / "full.jsonl")
    assert code == EXIT_ERRORS
    full = (tmp_path / "full.jsonl").read_bytes()

    with monkeypatch.context() as m:
        _interrupt_after(m, 2)
        code, err = run(tmp_path / "dir", out)
    assert code == EXIT_INTERRUPTED and "--resume" in err
    assert len(read_jsonl(out)) == 2 * batch_module.CHUNK_SIZE
    with open(out, "ab") as fh:
        fh.write(b'{"schema_version": "1", "note_id": "n000')  # a torn last line

    code, err = run(tmp_path / "dir", out, resume=True)
    assert code == EXIT_ERRORS  # the empty note's error record
    assert out.read_bytes() == full
    assert "resumed: 32 records" in err and "torn last line" in err and "71 notes" in err

    code, err = run(tmp_path / "dir", out, resume=True)  # nothing left to do
    assert code == EXIT_ERRORS and out.read_bytes() == full and "(0 extracted" in err


def test_resume_with_duplicate_ids(run, tmp_path):
    rows = [{"note_id": "same", "text": NOTES[k % 3]} for k in range(5)]
    write_jsonl(tmp_path / "in.jsonl", rows)
    run(tmp_path / "in.jsonl", tmp_path / "full.jsonl")
    lines = (tmp_path / "full.jsonl").read_bytes().splitlines(keepends=True)
    assert len(lines) == 5
    (tmp_path / "o.jsonl").write_bytes(b"".join(lines[:2]))
    code, _ = run(tmp_path / "in.jsonl", tmp_path / "o.jsonl", resume=True)
    assert code == EXIT_OK and (tmp_path / "o.jsonl").read_bytes() == b"".join(lines)


def test_resume_refuses_a_damaged_output(run, tmp_path):
    write_folder(tmp_path / "dir", note_set(3))
    (tmp_path / "o.jsonl").write_bytes(b'{"note_id": "n00000"}\nBROKEN\n{"note_id": "n00001"}\n')
    code, err = run(tmp_path / "dir", tmp_path / "o.jsonl", resume=True)
    assert code == EXIT_USAGE and "not resuming" in err


def test_progress_lines_ci_and_quiet(run, tmp_path, monkeypatch):
    write_folder(tmp_path / "dir", note_set(40))
    code, err = run(tmp_path / "dir", tmp_path / "a.jsonl", progress="lines", progress_interval=0)
    progress_lines = [ln for ln in err.splitlines() if "notes/s, ETA" in ln]
    assert code == EXIT_OK and progress_lines and "/40 notes" in progress_lines[-1]
    assert "spinecode batch: 40 notes in" in err

    monkeypatch.setenv("CI", "true")
    code, err = run(tmp_path / "dir", tmp_path / "b.jsonl", progress="auto")
    assert "ETA" not in err and err.startswith("spinecode batch: 40 notes in")
    code, err = run(tmp_path / "dir", tmp_path / "c.jsonl", progress="auto", quiet=True)
    assert code == EXIT_OK and err == ""


def test_progress_mode_and_bar():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    assert progress_mode("auto", False, Tty()) in ("bar", "none")  # none when CI is set
    assert progress_mode("auto", False, io.StringIO()) in ("lines", "none")
    assert progress_mode("auto", True, Tty()) == "none"
    stream = Tty()
    bar = Progress("bar", total=10, stream=stream)
    bar.advance(4, 1)
    bar.advance(6, 0)
    bar.close()
    assert "10/10" in stream.getvalue() and "1 errors" in stream.getvalue()
    guess = Progress("lines", total=None, stream=io.StringIO(), fraction=lambda: 0.25)
    guess.advance(10, 0)
    assert guess.total == 40 and "/~40 notes" in guess.line()


def test_sigterm_stops_cleanly(run, tmp_path, monkeypatch):
    import os
    import signal

    write_folder(tmp_path / "dir", note_set(64))
    interrupt_at_merge(monkeypatch, 3, lambda: os.kill(os.getpid(), signal.SIGTERM))
    before = signal.getsignal(signal.SIGTERM)
    code, err = run(tmp_path / "dir", tmp_path / "o.jsonl")
    assert code == EXIT_INTERRUPTED and "--resume" in err
    assert 0 < len(read_jsonl(tmp_path / "o.jsonl")) < 64
    assert signal.getsignal(signal.SIGTERM) == before


def test_an_internal_error_never_prints_its_message(run, tmp_path, monkeypatch):
    write_folder(tmp_path / "dir", note_set(4))

    def broken(notes, results):
        raise ValueError(f"could not handle {notes[0].text}")

    monkeypatch.setattr(batch_module, "merge_records", broken)
    code, err = run(tmp_path / "dir", tmp_path / "o.jsonl")
    assert code == EXIT_USAGE and "internal error: ValueError at test_batch_run.py:" in err
    assert CANARY not in err and "could not handle" not in err


def test_a_second_batch_on_the_same_output_is_refused(run, tmp_path):
    from extractor.writers import JsonlWriter

    write_folder(tmp_path / "dir", note_set(3))
    out = tmp_path / "o.jsonl"
    first = JsonlWriter(str(out))  # another batch holds OUT
    first.write({"note_id": "x"})
    try:
        code, err = run(tmp_path / "dir", out, resume=True)
        assert code == EXIT_USAGE and "another spinecode batch" in err
        code, err = run(tmp_path / "dir", out)  # without --resume it must not empty the file either
        assert code == EXIT_USAGE
    finally:
        first.close()
    assert read_jsonl(out) == [{"note_id": "x"}]
