"""extractor.parallel, the one process pool: input order kept, the same results as one process, and a
worker that dies costs the note that killed it (or, when workers keep dying, a clear exception)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from extractor import Extractor
from extractor import api as api_module
from extractor.parallel import (
    OrderedPool,
    PoolError,
    WorkerInitError,
    chunked,
    current_worker,
    start_worker,
)

ROOT = Path(__file__).resolve().parents[1]
NOTES = [(p.stem, p.read_text(encoding="utf-8")) for p in sorted((ROOT / "examples").glob("*.txt"))]


# Stand-ins for the extractor, so that the pool tests need no spaCy in the workers.


def build_tagger(tag: str) -> str:
    return tag


def tag_items(items: list) -> list:
    out = []
    for item in items:
        if str(item).startswith("boom"):
            os._exit(3)  # what an out-of-memory kill or a crash in native code looks like
        time.sleep(0.02 if int(str(item)[-1]) % 2 else 0.0)  # odd items finish later than even ones
        out.append(f"{current_worker()}:{item}")
    return out


def always_die(items: list) -> list:
    os._exit(3)


def cannot_build() -> None:
    raise RuntimeError("no pipeline here")


def crashed(item) -> str:
    return f"crashed:{item}"


def run_pool(jobs, task=tag_items, processes: int = 2, build=build_tagger, args=("w",)) -> list:
    pool = OrderedPool(processes, start_worker, (build, *args), task, on_crash=crashed)
    try:
        return list(pool.map(jobs))
    finally:
        pool.close()


def test_chunked_keeps_order_and_the_short_tail():
    assert list(chunked(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(chunked([], 3)) == []


def test_results_come_back_in_input_order():
    jobs = [(k, [f"n{k}{j}" for j in range(k % 3)]) for k in range(12)]  # some jobs have no items
    got = run_pool(jobs)
    assert [tag for tag, _ in got] == list(range(12))
    assert [results for _, results in got] == [[f"w:{item}" for item in items] for _, items in jobs]


def test_a_dying_worker_costs_only_the_item_that_killed_it():
    jobs = [("a", ["a1", "a2"]), ("b", ["b1", "boom1", "b3"]), ("c", ["c1"]), ("d", ["boom2"]), ("e", ["e1"])]
    got = dict(run_pool(jobs))
    assert got == {"a": ["w:a1", "w:a2"], "b": ["w:b1", "crashed:boom1", "w:b3"], "c": ["w:c1"],
                   "d": ["crashed:boom2"], "e": ["w:e1"]}


def test_workers_that_keep_dying_raise_pool_error():
    with pytest.raises(PoolError, match="times in a row; giving up"):
        run_pool([(k, [f"n{k}"]) for k in range(20)], task=always_die, processes=1)


def test_a_worker_that_cannot_build_raises_a_clear_error():
    with pytest.raises(WorkerInitError, match=r"could not build the pipeline \(RuntimeError: no pipeline here\)"):
        run_pool([(0, ["n1"])], build=cannot_build, args=(), processes=1)


def test_pipe_in_two_processes_gives_the_serial_results():
    items = [*NOTES, ("empty", "  "), ("not-text", 42), *NOTES[::-1]]
    items = [(f"{k}-{note_id}", text) for k, (note_id, text) in enumerate(items)]
    serial = [r.to_dict() for r in Extractor().pipe(items, n_process=1, batch_size=3)]
    pooled = [r.to_dict() for r in Extractor().pipe(items, n_process=2, batch_size=3)]
    assert pooled == serial
    assert [r["note_id"] for r in pooled] == [note_id for note_id, _ in items]
    assert [r["error"]["type"] for r in pooled if "error" in r] == ["EmptyNote", "InputError"]


def test_pipe_gives_an_error_result_for_a_note_that_kills_its_worker(monkeypatch):
    run_chunk = api_module._run_chunk

    def crash_on_boom(extractor, chunk):  # the forked workers inherit this stand-in
        if any(note_id == "boom" for note_id, _text, _dos in chunk):
            os._exit(3)
        return run_chunk(extractor, chunk)

    items = [("a", NOTES[0][1]), ("boom", NOTES[1][1]), ("c", NOTES[2][1])]
    expected = [r.to_dict() for r in Extractor().pipe(items, n_process=1)]
    monkeypatch.setattr(api_module, "_run_chunk", crash_on_boom)
    got = [r.to_dict() for r in Extractor().pipe(items, n_process=2, batch_size=2)]
    assert [r["note_id"] for r in got] == ["a", "boom", "c"]
    assert got[1]["error"]["type"] == "WorkerCrashed"
    assert [got[0], got[2]] == [expected[0], expected[2]]
