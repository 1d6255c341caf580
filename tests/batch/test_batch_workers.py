"""--workers: identical output to one process; a worker that dies costs one note, not the batch."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from batch_helpers import interrupt_at_merge, note_set, write_folder

from extractor.batch import EXIT_ERRORS, BatchError, PoolEngine, worker_run
from extractor.readers import SourceNote

CORPUS = Path(__file__).resolve().parents[2] / "corpora" / "train"


def test_two_workers_write_the_same_bytes_as_one(run, tmp_path):
    root = write_folder(tmp_path / "in", note_set(30))
    for path in sorted(CORPUS.glob("*.txt"))[::4]:
        shutil.copy(path, root / path.name)
    (root / "empty.txt").write_bytes(b"")
    (root / "binary.txt").write_bytes(b"\x00\x01\x02")
    code1, _ = run(root, tmp_path / "w1.jsonl", workers=1)
    code2, _ = run(root, tmp_path / "w2.jsonl", workers=2)
    assert code1 == code2 == EXIT_ERRORS
    one = (tmp_path / "w1.jsonl").read_bytes()
    assert one == (tmp_path / "w2.jsonl").read_bytes()
    assert one.count(b"\n") == 30 + len(list(CORPUS.glob("*.txt"))[::4]) + 2


# Stand-ins for the pipeline, so that these tests need no spaCy in the workers.


def fake_init(code_set: str) -> None:
    pass


def fake_work(items: list[tuple]) -> list[dict]:
    out = []
    for note_id, text, _dos in items:
        if note_id.startswith("boom"):
            os._exit(3)  # what an out-of-memory kill or a crash in native code looks like
        out.append({"note_id": note_id, "length": len(text)})
    return out


def notes(ids: list[str]) -> list[SourceNote]:
    return [SourceNote(i, error=("EmptyNote", "x")) if i.startswith("err") else SourceNote(i, "t" * k)
            for k, i in enumerate(ids)]


def chunks(items: list[SourceNote], size: int = 3):
    for k in range(0, len(items), size):
        yield items[k:k + size]


def test_a_dying_worker_costs_one_note():
    ids = [f"a{k}" for k in range(7)] + ["boom1", "err1"] + [f"b{k}" for k in range(10)] + ["boom2"] + ["c1"]
    engine = PoolEngine(2, "current", init=fake_init, work=fake_work)
    try:
        records = [r for chunk in engine.run(chunks(notes(ids))) for r in chunk]
    finally:
        engine.close()
    assert [r["note_id"] for r in records] == ids
    kinds = {r["note_id"]: (r.get("error") or {}).get("type") for r in records}
    assert kinds["boom1"] == kinds["boom2"] == "WorkerCrashed"
    assert kinds["err1"] == "EmptyNote"
    assert all(kinds[i] is None for i in ids if not i.startswith(("boom", "err")))
    assert [r["length"] for r in records if r["note_id"] == "c1"] == [ids.index("c1")]
    assert engine.restarts >= 2  # the pool broke for each bad note (and again while it was isolated)


def test_a_worker_that_cannot_build_the_pipeline_stops_the_batch():
    engine = PoolEngine(1, "current", init=fake_init, work=worker_run)  # worker_run without worker_init
    try:
        with pytest.raises(BatchError, match="could not build the pipeline"):
            list(engine.run(chunks(notes(["a", "b"]))))
    finally:
        engine.close()


def test_interrupt_with_workers_stops_them_at_once(run, tmp_path, monkeypatch):
    import time

    from extractor import batch as batch_module

    write_folder(tmp_path / "in", note_set(400))

    def keyboard_interrupt():
        raise KeyboardInterrupt

    interrupt_at_merge(monkeypatch, 2, keyboard_interrupt)
    start = time.monotonic()
    code, err = run(tmp_path / "in", tmp_path / "o.jsonl", workers=2)
    assert code == 130 and "--resume" in err
    assert (tmp_path / "o.jsonl").read_bytes().count(b"\n") == batch_module.CHUNK_SIZE
    assert time.monotonic() - start < 60
