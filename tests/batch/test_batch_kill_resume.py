"""kill -9 in the middle of a batch, then --resume: every note exactly once, the same records as a run
that was never interrupted; and no worker process outlives a killed batch."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from batch_helpers import CANARY, cli_command, cli_env, note_set, read_jsonl, run_cli, write_folder

N_NOTES = 200  # a few ms each: the batch is still running when it is killed after KILL_AFTER records
KILL_AFTER = 48


def lines_in(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def children_of(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(entry))
    return kids


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def kill_9(proc: subprocess.Popen) -> None:
    """kill -9 the process (whatever state it is in) and reap it."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


LINUX = pytest.mark.skipif(not os.path.isdir("/proc") or not hasattr(signal, "SIGKILL"), reason="needs Linux /proc")


@LINUX
def test_kill_9_then_resume(run, tmp_path):
    root = write_folder(tmp_path / "in", note_set(N_NOTES))
    (root / "n00100.txt").write_bytes(b"\x00binary")  # an error record in the middle
    reference = tmp_path / "reference.jsonl"
    assert run(root, reference)[0] == 1

    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen(cli_command("batch", str(root), "--out", str(out)), env=cli_env(),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while lines_in(out) < KILL_AFTER:
            assert proc.poll() is None, "the batch ended before it could be killed"
            assert time.monotonic() < deadline, "the batch wrote nothing in time"
            time.sleep(0.005)
    finally:
        kill_9(proc)
    written = lines_in(out)
    assert KILL_AFTER <= written < N_NOTES, written  # killed mid-run

    with open(out, "ab") as fh:  # what a crash in the middle of a write leaves
        fh.write(b'{"schema_version": "1", "note_id": "n0')

    done = run_cli("batch", str(root), "--out", str(out), "--resume")
    assert done.returncode == 1, done.stderr  # 1: the binary note's error record
    assert out.read_bytes() == reference.read_bytes()
    ids = [r["note_id"] for r in read_jsonl(out)]
    assert len(ids) == len(set(ids)) == N_NOTES
    assert "torn last line" in done.stderr and f"resumed: {written} records" in done.stderr
    assert CANARY not in done.stderr and CANARY not in done.stdout


# A batch process with the real worker_init and PoolEngine, and a stand-in for the pipeline (no spaCy):
POOL_SCRIPT = """
import time
import extractor.batch as b
from extractor.readers import SourceNote

class Result:
    def __init__(self, note_id):
        self.note_id = note_id
    def to_dict(self):
        return {"note_id": self.note_id}

class SlowExtractor:
    def __init__(self, code_set="current"):
        pass
    def pipe(self, items, n_process=1, batch_size=32):
        for note_id, _text, _dos in items:
            time.sleep(0.02)
            yield Result(note_id)

b.Extractor = SlowExtractor  # inherited by the forked workers
engine = b.PoolEngine(2, "current")
for records in engine.run([SourceNote(f"n{k}", "x")] for k in range(10**6)):
    print(records[0]["note_id"], flush=True)
"""


@LINUX
def test_workers_die_with_a_killed_batch():
    import sys

    proc = subprocess.Popen([sys.executable, "-c", POOL_SCRIPT], env=cli_env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        for _ in range(5):  # the workers are up and working
            assert proc.stdout.readline()
        workers = children_of(proc.pid)
        assert len(workers) >= 2
    finally:
        kill_9(proc)
    deadline = time.monotonic() + 15
    while any(alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(p) for p in workers), "worker processes outlived the killed batch"


def test_cli_help_and_usage_error():
    shown = run_cli("batch", "--help", COLUMNS="200")
    assert shown.returncode == 0
    text = " ".join(shown.stdout.split())
    assert "JSONL output only" in text and "Exit codes: 0" in text and "--glob" in text
    failed = run_cli("batch", "/nonexistent/folder", "--out", "/tmp/never-written.jsonl")
    assert failed.returncode == 2 and "no such file or folder" in failed.stderr
