"""Helpers for the confidence-model tests: a tiny synthetic gold corpus (no real notes)."""

from __future__ import annotations

import json
from pathlib import Path

FAST_GRID = {head: [{"C": 3.0}, {"C": 30.0}] for head in ("performed", "level", "technique", "biopsy")}
LEVELS = ["T7", "T8", "T9", "T10", "T11", "T12", "L1", "L2", "L3", "L4"]


def synthetic_note(k: int) -> tuple[str, dict]:
    """Synthetic note k: a vertebroplasty, an augmentation or a cancelled session, some with a biopsy."""
    level, other = LEVELS[k % len(LEVELS)], LEVELS[(k + 3) % len(LEVELS)]
    kind = ("vertebroplasty", "augmentation", "augmentation", "vertebroplasty", "none")[k % 5]
    biopsy = k % 3 == 0 and kind != "none"
    bx = (f"A core biopsy of {level} was obtained and sent to pathology." if biopsy
          else "No biopsy was taken.")
    if kind == "vertebroplasty":
        body = (f"PROCEDURE: Percutaneous vertebroplasty of {level}.\n\n"
                f"TECHNIQUE: An 11 gauge needle was advanced into {level} through the left pedicle under "
                f"fluoroscopy. {2 + k % 3} mL of PMMA cement was injected directly into {level}. {bx}\n\n")
    elif kind == "augmentation":
        body = (f"PROCEDURE: Balloon kyphoplasty of {level}.\n\n"
                f"TECHNIQUE: Working cannulas were placed into {level} through both pedicles. A balloon was "
                f"inflated in {level} to create a cavity, then {3 + k % 2} mL of PMMA cement filled the cavity. {bx}\n\n")
    else:
        body = (f"CLINIC NOTE: seen for a painful {level} compression fracture.\n\n"
                f"PLAN: Vertebroplasty of {level} was planned but the session was cancelled; we will schedule "
                "it next week. No procedure was performed today.\n\n")
    text = body + f"HISTORY: Prior vertebroplasty at {other}, healed. MRI shows an old {other} deformity.\n"
    procedures = [] if kind == "none" else [{
        "level": level, "technique": kind, "approach": "unilateral" if kind == "vertebroplasty" else "bilateral",
        "side": "left" if kind == "vertebroplasty" else None,
        "cavity_device": "balloon" if kind == "augmentation" else None, "cement": "pmma", "biopsy": biopsy,
    }]
    gold = {"id": f"syn_{k:03d}", "procedures": procedures, "biopsy_only_levels": [], "imaging": ["fluoroscopy"],
            "codes": [], "legacy_codes": []}
    return text, gold


def write_corpus(folder: Path, n: int = 20) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        text, gold = synthetic_note(k)
        (folder / f"syn_{k:03d}.txt").write_text(text, encoding="utf-8")
        (folder / f"syn_{k:03d}.gold.json").write_text(json.dumps(gold), encoding="utf-8")
    return folder
