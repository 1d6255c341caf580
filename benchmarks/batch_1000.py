"""Batch throughput: 1,000 notes (copies of corpora/train/*.txt, cycled) through `spinecode batch --workers 2`.

    .venv/bin/python benchmarks/batch_1000.py [--notes 1000] [--workers 2] [--keep]

Prints the end-to-end rate (process start to exit, pipeline builds included), the steady rate (first
record written to exit), the peak RSS of each worker process and of the batch process (VmHWM from
/proc, polled while the batch runs; plus the largest child from getrusage(RUSAGE_CHILDREN)), and the
number of error records. Notes are built in a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build_folder(folder: Path, n: int) -> None:
    sources = sorted((ROOT / "corpora" / "train").glob("*.txt"))
    if not sources:
        sys.exit("no corpora/train/*.txt to copy")
    for k in range(n):
        src = sources[k % len(sources)]
        shutil.copyfile(src, folder / f"{k:05d}_{src.name}")


def children_of(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        kids.append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    return kids


def peak_rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def count_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and print its path")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="spinecode-bench-"))
    try:
        notes = tmp / "notes"
        notes.mkdir()
        build_folder(notes, args.notes)
        out = tmp / "out.jsonl"
        cmd = [sys.executable, "-c", "from extractor.cli import main; main()", "batch", str(notes), "--out", str(out),
               "--workers", str(args.workers), "--progress", "none"]
        env = {k: v for k, v in os.environ.items() if k != "CI"}
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        peaks: dict[int, int] = {}
        first_record = None
        while proc.poll() is None:
            own = cmdline(proc.pid)  # empty until the batch process has exec'd, and for a zombie
            if own:
                peaks[proc.pid] = max(peaks.get(proc.pid, 0), peak_rss_kb(proc.pid))
                for pid in children_of(proc.pid):
                    if cmdline(pid) == own:  # the pool's workers are forks of the batch process
                        peaks[pid] = max(peaks.get(pid, 0), peak_rss_kb(pid))
            if first_record is None and count_lines(out) > 0:
                first_record = time.perf_counter()
            time.sleep(0.05)
        end = time.perf_counter()
        stderr = proc.stderr.read() if proc.stderr else ""
        wall = end - start
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)

        records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        errors = sum("error" in r for r in records)
        main_peak = peaks.pop(proc.pid, 0)
        steady = len(records) / (end - first_record) if first_record else float("nan")
        print(f"notes:            {len(records)} (exit code {proc.returncode})")
        print(f"workers:          {args.workers}")
        print(f"wall time:        {wall:.1f} s (process start to exit, pipeline builds included)")
        print(f"notes/s:          {len(records) / wall:.1f} end to end; {steady:.1f} from the first record written")
        for k, (pid, kb) in enumerate(sorted(peaks.items()), 1):
            print(f"peak RSS worker {k}: {kb / 1024:.0f} MiB (pid {pid})")
        print(f"peak RSS batch process: {main_peak / 1024:.0f} MiB")
        print(f"largest child (getrusage RUSAGE_CHILDREN ru_maxrss): {usage.ru_maxrss / 1024:.0f} MiB")
        print(f"error records:    {errors}")
        print(f"CPU time (children): user {usage.ru_utime:.1f} s, system {usage.ru_stime:.1f} s")
        if proc.returncode not in (0, 1):
            print(stderr, file=sys.stderr)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
