"""Helpers for the review-stage tests: a tiny synthetic gold corpus (no real notes), hand-written facts
and a model view that agrees with them."""

from __future__ import annotations

import json
from pathlib import Path

from extractor.facts import LevelFacts, NoteFacts, NotTreated
from extractor.review.runtime import ModelView

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


VP_TEXT = synthetic_note(0)[0]  # a vertebroplasty of T7 with a biopsy


def _vp_facts(**extra) -> NoteFacts:
    facts = NoteFacts(procedures=[LevelFacts("T7", "vertebroplasty", approach="unilateral", side="left",
                                             cement="pmma", biopsy=True, guidance="fluoroscopy")],
                      imaging=["fluoroscopy"], not_treated=[NotTreated("L2", "historical")])
    for k, v in extra.items():
        setattr(facts, k, v)
    return facts


def _agreeing_view(facts: NoteFacts) -> ModelView:
    treated = {p.level: p.technique for p in facts.procedures}
    view = ModelView(p_performed=0.99 if treated else 0.01)
    for level in list(treated) + [n.level for n in facts.not_treated]:
        view.p_level[level] = 0.99 if level in treated else 0.01
        view.p_biopsy[level] = 0.01
        if level in treated:
            view.p_technique[level] = {t: (0.98 if t == treated[level] else 0.01)
                                       for t in ("vertebroplasty", "augmentation", "sacroplasty")}
    return view


META = {"review_threshold": 0.8, "prior_accuracy": 0.95, "model_weight": 1.0,
        "base_rates": {"performed": 0.9, "level": 0.5, "biopsy": 0.15,
                       "technique": {"vertebroplasty": 0.45, "augmentation": 0.45, "sacroplasty": 0.1}}}
