"""Helpers for the batch tests: short synthetic notes, files, running the CLI as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# A string that stands for patient data: it must never reach stderr or an error message.
CANARY = "ZZCANARY-4471"

NOTES = [
    (f"PROCEDURE: T12 balloon kyphoplasty, bipedicular. Patient {CANARY}. 3.5 mL PMMA under fluoroscopy. "
     "No biopsy."),
    "CT-guided vertebroplasty of L3, right unipedicular, 3 mL PMMA. Bone biopsy of L3 was taken.",
    "SPINE CLINIC CONSULTATION. L1 compression fracture. Plan: L1 kyphoplasty next week. No procedure today.",
    ("OPERATIVE NOTE. Vertebroplasty of T8 and T9 under fluoroscopy, bilateral, 2 mL PMMA at each level. "
     "Prior L2 vertebroplasty (2019)."),
    "Procedure: bilateral sacroplasty under CT guidance. 3 cc of PMMA injected into each sacral ala.",
    "Kyphoplasty L2 with mechanical cavity creation, unipedicular left, 4 mL cement. T12 was not treated.",
]


def note_set(n: int) -> list[tuple[str, str]]:
    """n (note_id, text) pairs cycling through NOTES; ids sort in the same order as they are made."""
    return [(f"n{k:05d}", NOTES[k % len(NOTES)]) for k in range(n)]


def write_folder(root: Path, notes: list[tuple[str, str]]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for note_id, text in notes:
        (root / f"{note_id}.txt").write_text(text, encoding="utf-8")
    return root


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(row) + "\n" for row in rows)
    return path


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def reference_records(extractor, notes: list[tuple[str, str]], **kw) -> list[dict]:
    return [r.to_dict() for r in extractor.pipe(notes, **kw)]


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from extractor.cli import main; main()", *args]


def cli_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(extra)
    return env


def run_cli(*args: str, timeout: float = 120, **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run(cli_command(*args), check=False, capture_output=True, text=True, timeout=timeout,
                          env=cli_env(**extra_env), stdin=subprocess.DEVNULL)


def interrupt_at_merge(monkeypatch, call: int, interrupt) -> None:
    """Make the batch's `call`-th merge_records run `interrupt()` first (send a signal, raise), as an
    interruption in the middle of a batch would."""
    from extractor import batch as batch_module

    real_merge = batch_module.merge_records
    calls = {"n": 0}

    def merge(notes, results):
        calls["n"] += 1
        if calls["n"] == call:
            interrupt()
        return real_merge(notes, results)

    monkeypatch.setattr(batch_module, "merge_records", merge)
