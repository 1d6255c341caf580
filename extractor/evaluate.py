"""Score spinecode against gold-annotated notes (NAME.txt + NAME.gold.json, shared/spec/gold.md)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields
from pathlib import Path

from .coding import assign_codes
from .facts import LevelFacts, in_record
from .gold import codes_as_pairs as code_pairs

# Per-body fields scored on every gold procedure: the record fields of LevelFacts except these.
NOT_SCORED_ALWAYS = {
    "level": "the key procedures are matched on",
    "cement_volume_ml": "scored only where the gold states a volume",
    "guidance": "gold files seldom state it (gold.py infers it from imaging)",
    "evidence": "offsets, not a fact",
}
FIELDS = tuple(f.name for f in fields(LevelFacts) if in_record(f) and f.name not in NOT_SCORED_ALWAYS)


def find_pairs(dirs: list[Path]) -> list[tuple[str, Path, Path]]:
    """(note_id, text path, gold path) for every NAME.txt that has a NAME.gold.json, sorted."""
    pairs = []
    for d in dirs:
        for gold in sorted(Path(d).glob("*.gold.json")):
            name = gold.name[: -len(".gold.json")]
            txt = gold.with_name(name + ".txt")
            if txt.exists():
                pairs.append((name, txt, gold))
    return pairs


@dataclass
class NoteScore:
    note_id: str
    codes_ok: bool
    legacy_ok: bool
    review: bool
    mismatches: list[str] = field(default_factory=list)
    additional_ok: bool = True  # additional codes exact (gold without the field: none expected)
    queries_ok: bool | None = None  # query topics agree; None when the gold says nothing about queries


@dataclass
class Report:
    notes: list[NoteScore] = field(default_factory=list)
    tp: int = 0
    fp: int = 0
    fn: int = 0
    field_right: Counter = field(default_factory=Counter)
    field_total: Counter = field(default_factory=Counter)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def rate(self, name: str) -> float:
        total = self.field_total[name]
        return self.field_right[name] / total if total else 1.0


def _level_reasons(pairs: list[tuple[str, str]]) -> list[str]:
    return [f"{level} {reason}" for level, reason in pairs]


def score_note(note_id: str, result, gold: dict, report: Report) -> NoteScore:
    rec = result.to_dict()
    mism: list[str] = []
    if "error" in rec:
        mism.append(f"error: {rec['error']['type']}")
        ns = NoteScore(note_id, False, False, True, mism)
        report.fn += len(gold.get("procedures", []))
        report.notes.append(ns)
        return ns
    sys_procs = {p["level"]: p for p in rec["procedures"]}
    gold_procs = {p["level"]: p for p in gold.get("procedures", [])}
    for lv in sorted(set(sys_procs) | set(gold_procs)):
        if lv in sys_procs and lv in gold_procs:
            report.tp += 1
        elif lv in sys_procs:
            report.fp += 1
            mism.append(f"level {lv}: extra")
        else:
            report.fn += 1
            mism.append(f"level {lv}: missed")
    for lv, g in gold_procs.items():
        s = sys_procs.get(lv)
        for f in FIELDS:
            report.field_total[f] += 1
            if s is not None and s.get(f) == g.get(f):
                report.field_right[f] += 1
            elif s is not None:
                mism.append(f"{lv}.{f}: gold={g.get(f)!r} got={s.get(f)!r}")
        if "cement_volume_ml" in g:
            report.field_total["cement_volume_ml"] += 1
            if s is not None and s.get("cement_volume_ml") == g.get("cement_volume_ml"):
                report.field_right["cement_volume_ml"] += 1
            elif s is not None:
                mism.append(f"{lv}.cement_volume_ml: gold={g.get('cement_volume_ml')!r} got={s.get('cement_volume_ml')!r}")
    for name, sys_value, gold_value in (
        ("biopsy_only_levels", sorted(rec["biopsy_only_levels"]), sorted(gold.get("biopsy_only_levels", []))),
        ("imaging", sorted(rec["imaging"]), sorted(gold.get("imaging", []))),
    ):
        report.field_total[name] += 1
        if sys_value == gold_value:
            report.field_right[name] += 1
        else:
            mism.append(f"{name}: gold={gold_value} got={sys_value}")
    if "not_treated" in gold:
        report.field_total["not_treated"] += 1
        got = sorted((n["level"], n["reason"]) for n in rec["not_treated"])
        want = sorted((n["level"], n["reason"]) for n in gold["not_treated"])
        if got == want:
            report.field_right["not_treated"] += 1
        else:
            mism.append(f"not_treated: gold={_level_reasons(want)} got={_level_reasons(got)}")
    codes_ok = code_pairs(rec["codes"]) == code_pairs(gold.get("codes", []))
    if not codes_ok:
        mism.append(f"codes: gold={code_pairs(gold.get('codes', []))} got={code_pairs(rec['codes'])}")
    legacy = assign_codes(result.facts, "legacy")
    legacy_got = code_pairs(legacy.codes)
    legacy_ok = legacy_got == code_pairs(gold.get("legacy_codes", []))
    if not legacy_ok:
        mism.append(f"legacy: gold={code_pairs(gold.get('legacy_codes', []))} got={legacy_got}")
    additional_ok = code_pairs(rec["additional_codes"]) == code_pairs(gold.get("additional_codes", []))
    if not additional_ok:
        mism.append(f"additional codes: gold={code_pairs(gold.get('additional_codes', []))} "
                    f"got={code_pairs(rec['additional_codes'])}")
    queries_ok = None
    if "queries" in gold:
        want = sorted(q["topic"] for q in gold["queries"])
        got = sorted(q["topic"] for q in rec["queries"])
        queries_ok = want == got
        if not queries_ok:
            mism.append(f"queries: gold={want} got={got}")
    ns = NoteScore(note_id, codes_ok, legacy_ok, rec["review"], mism, additional_ok, queries_ok)
    report.notes.append(ns)
    return ns


def format_report(report: Report, show: bool = False) -> str:
    lines = []
    n = len(report.notes)
    exact = sum(ns.codes_ok for ns in report.notes)
    legacy = sum(ns.legacy_ok for ns in report.notes)
    auto = [ns for ns in report.notes if not ns.review]
    auto_ok = sum(ns.codes_ok for ns in auto)
    lines.append(f"{'note':<14} {'codes':<6} {'legacy':<7} {'review':<6} mismatches")
    for ns in report.notes:
        lines.append(
            f"{ns.note_id:<14} {'ok' if ns.codes_ok else 'DIFF':<6} {'ok' if ns.legacy_ok else 'DIFF':<7} "
            f"{'yes' if ns.review else 'no':<6} {len(ns.mismatches)}"
        )
        if show:
            lines.extend(f"    - {m}" for m in ns.mismatches)
    lines.append("")
    lines.append(f"notes: {n}")
    lines.append(f"exact code sets (current): {exact}/{n} ({exact / n:.1%})" if n else "no notes")
    if n:
        lines.append(f"exact code sets (legacy):  {legacy}/{n} ({legacy / n:.1%})")
        lines.append(
            f"treated levels: precision {report.precision:.3f}  recall {report.recall:.3f}  F1 {report.f1:.3f}"
        )
        for f in list(FIELDS) + ["cement_volume_ml", "biopsy_only_levels", "imaging", "not_treated"]:
            if report.field_total[f]:
                lines.append(
                    f"  {f:<20} {report.rate(f):.1%}  ({report.field_right[f]}/{report.field_total[f]})"
                )
        additional = sum(ns.additional_ok for ns in report.notes)
        lines.append(f"exact additional codes:    {additional}/{n} ({additional / n:.1%})")
        asked = [ns for ns in report.notes if ns.queries_ok is not None]
        if asked:
            agree = sum(bool(ns.queries_ok) for ns in asked)
            lines.append(f"query topics agree:        {agree}/{len(asked)} ({agree / len(asked):.1%})")
        claim_ok = sum(ns.codes_ok and ns.additional_ok for ns in auto)
        lines.append(
            f"automation rate (review=false): {len(auto)}/{n} ({len(auto) / n:.1%}); "
            f"exact among them: {auto_ok}/{len(auto)}"
        )
        lines.append(
            f"precision among review=false (codes and additional codes): {claim_ok}/{len(auto)}"
            + (f" ({claim_ok / len(auto):.1%})" if auto else "")
        )
    return "\n".join(lines)
