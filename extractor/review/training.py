"""`spinecode train`: the four heads fit on the train split, the review threshold chosen out-of-fold.

Deterministic: fixed folds and seeds, sorted inputs; the model file is byte-for-byte reproducible.
The rule extractor is passed in (`rules`, a function from (note_id, text) pairs to results, as
`Extractor.pipe`): this package never imports the api, so the api can import the review stage.
Only cli.py imports this module.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..coding import assign_codes
from ..facts import LEVEL_ORDER, BiopsyLevel, LevelFacts
from ..gold import codes_as_pairs as code_pairs
from ..text import decode_note
from .card import model_card
from .confidence import DEFAULT_THRESHOLD, PRIOR_ACCURACY, assess
from .features import featurize
from .runtime import ConfidenceModel, ModelView, load_model
from .store import HEADS, TRUSTED_TYPES, save_model

RuleRunner = Callable[[list[tuple[str, str]]], Iterable[Any]]  # (note_id, text) pairs -> NoteResults, in order



# ------------------------------------------------------------------------------------------------
# labels from gold files


def performed_label(gold: dict) -> int:
    return int(bool(gold.get("procedures")))


def biopsy_labels(gold: dict) -> set[str]:
    """Levels biopsied in this session (treated or not)."""
    out = {p["level"] for p in gold.get("procedures") or [] if p.get("biopsy")}
    out |= {b if isinstance(b, str) else b["level"] for b in gold.get("biopsy_only_levels") or []}
    return out


def level_labels(gold: dict) -> dict[str, str]:
    """level -> technique for every level treated in the gold."""
    return {p["level"]: p["technique"] for p in gold.get("procedures") or []}


# ------------------------------------------------------------------------------------------------
# the estimators


# hyper-parameters tried per head; the one with the best out-of-fold log-loss on the train split wins
GRID: dict[str, list[dict]] = {head: [{"C": c} for c in (1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0)]
                               for head in HEADS}


def make_head(C: float, seed: int = 0) -> Any:
    """One head: TF-IDF over the feature tokens, then logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    return Pipeline([
        ("features", TfidfVectorizer(token_pattern=r"\S+", lowercase=False, sublinear_tf=True, min_df=2)),
        ("clf", LogisticRegression(C=C, max_iter=10000, random_state=seed)),
    ])


# ------------------------------------------------------------------------------------------------
# the corpus and the rows of each head


@dataclass
class GoldNote:
    note_id: str
    text: str
    gold: dict


def read_corpus(folder: Path) -> list[GoldNote]:
    """Every NAME.txt with a NAME.gold.json in `folder`, sorted by name."""
    notes = []
    for gold_path in sorted(Path(folder).glob("*.gold.json")):
        name = gold_path.name[: -len(".gold.json")]
        txt = gold_path.with_name(name + ".txt")
        if txt.is_file():
            text = decode_note(txt.read_bytes())[0]
            notes.append(GoldNote(name, text, json.loads(gold_path.read_text(encoding="utf-8"))))
    return notes


@dataclass
class HeadData:
    docs: list[str] = field(default_factory=list)
    labels: list[Any] = field(default_factory=list)
    note: list[int] = field(default_factory=list)  # index of the note each row comes from
    level: list[str | None] = field(default_factory=list)


def head_data(notes: list[GoldNote]) -> tuple[dict[str, HeadData], int]:
    """Rows of the four heads, and the number of gold-treated levels the level finder missed."""
    data = {h: HeadData() for h in HEADS}
    missed = 0
    for i, n in enumerate(notes):
        f = featurize(n.text)
        data["performed"].docs.append(f.note_doc)
        data["performed"].labels.append(performed_label(n.gold))
        data["performed"].note.append(i)
        data["performed"].level.append(None)
        treated = level_labels(n.gold)
        biopsied = biopsy_labels(n.gold)
        missed += len(set(treated) - set(f.level_docs))
        for level in sorted(f.level_docs, key=LEVEL_ORDER.index):
            data["level"].docs.append(f.level_docs[level])
            data["level"].labels.append(int(level in treated))
            data["level"].note.append(i)
            data["level"].level.append(level)
            data["biopsy"].docs.append(f.level_docs[level])
            data["biopsy"].labels.append(int(level in biopsied))
            data["biopsy"].note.append(i)
            data["biopsy"].level.append(level)
            if level in treated:
                data["technique"].docs.append(f.technique_docs[level])
                data["technique"].labels.append(treated[level])
                data["technique"].note.append(i)
                data["technique"].level.append(level)
    return data, missed


# ------------------------------------------------------------------------------------------------
# folds and out-of-fold probabilities


def note_folds(notes: list[GoldNote], n_splits: int = 5, seed: int = 0) -> list[int]:
    """Fold of each note (stratified by the note's technique class); rows follow their note."""
    import warnings as _warnings

    from sklearn.model_selection import StratifiedKFold

    def klass(g: dict) -> str:
        techniques = {p["technique"] for p in g.get("procedures") or []}
        return "none" if not techniques else (techniques.pop() if len(techniques) == 1 else "augmentation")

    y = [klass(n.gold) for n in notes]
    fold = [0] * len(notes)
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")  # "the least populated class has fewer members than n_splits"
        for f, (_, test) in enumerate(StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(y, y)):
            for i in test:
                fold[i] = f
    return fold


def _oof(head: str, data: HeadData, fold: list[int], params: dict, seed: int):
    """Out-of-fold class probabilities (rows x classes) and the class order."""
    import numpy as np

    classes = sorted(set(data.labels), key=str)
    out = np.zeros((len(data.docs), len(classes)))
    row_fold = [fold[i] for i in data.note]
    for f in sorted(set(fold)):
        train = [r for r, rf in enumerate(row_fold) if rf != f]
        test = [r for r, rf in enumerate(row_fold) if rf == f]
        if not test:
            continue
        train_labels = [data.labels[r] for r in train]
        if len(set(train_labels)) < 2:  # a tiny corpus: this fold has one class only -> its frequency
            for r in test:
                out[r, classes.index(train_labels[0])] = 1.0 if train_labels else 0.0
            continue
        est = make_head(params["C"], seed)
        est.fit([data.docs[r] for r in train], train_labels)
        probs = est.predict_proba([data.docs[r] for r in test])
        cols = [classes.index(c) for c in est.classes_]
        for j, r in enumerate(test):
            out[r, cols] = probs[j]
    return out, classes


def _log_loss(probs, classes: list, labels: list) -> float:
    total = 0.0
    for row, y in zip(probs, labels):
        total -= math.log(max(float(row[classes.index(y)]), 1e-15))
    return total / max(1, len(labels))


def views_from_probs(n_notes: int, data: dict[str, HeadData], probs: dict) -> list[ModelView]:
    """Per-note model views from row probabilities (out-of-fold at training time)."""
    views = []
    perf_probs, perf_classes = probs["performed"]
    for i in range(n_notes):
        views.append(ModelView(p_performed=float(perf_probs[i][perf_classes.index(1)])))
    lv_probs, lv_classes = probs["level"]
    for r, (i, level) in enumerate(zip(data["level"].note, data["level"].level)):
        views[i].p_level[level] = float(lv_probs[r][lv_classes.index(1)])
    b_probs, b_classes = probs["biopsy"]
    for r, (i, level) in enumerate(zip(data["biopsy"].note, data["biopsy"].level)):
        views[i].p_biopsy[level] = float(b_probs[r][b_classes.index(1)])
    t_probs, t_classes = probs["technique"]
    for r, (i, level) in enumerate(zip(data["technique"].note, data["technique"].level)):
        views[i].p_technique[level] = {str(c): float(p) for c, p in zip(t_classes, t_probs[r])}
    return views


# ------------------------------------------------------------------------------------------------
# metrics


def reliability(pairs: list[tuple[float, int]], bins: int = 5) -> list[dict]:
    """Reliability table: predicted probability bins vs the observed frequency of the event."""
    table = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = [(p, y) for p, y in pairs if lo <= p < hi or (b == bins - 1 and p == 1.0)]
        if inside:
            table.append({
                "bin": f"{lo:.1f}-{hi:.1f}", "n": len(inside),
                "mean_predicted": round(sum(p for p, _ in inside) / len(inside), 3),
                "observed": round(sum(y for _, y in inside) / len(inside), 3),
            })
    return table


def _head_pairs(data: HeadData, probs, classes: list) -> list[tuple[float, int]]:
    """(predicted probability, happened): the positive class of a yes/no head, else every class."""
    if classes == [0, 1]:
        return [(float(row[1]), int(y == 1)) for row, y in zip(probs, data.labels)]
    return [(float(row[j]), int(y == c)) for row, y in zip(probs, data.labels) for j, c in enumerate(classes)]


def _rule_outputs(notes: list[GoldNote], rules: RuleRunner) -> list:
    return list(rules([(n.note_id, n.text) for n in notes]))


def _codes_right(result, gold: dict) -> bool:
    rec = result.to_dict()
    return "error" not in rec and code_pairs(rec["codes"]) == code_pairs(gold.get("codes", []))


def _split_metrics(data: dict[str, HeadData], probs: dict, rows: list[dict], threshold: float) -> dict:
    out: dict[str, Any] = {}
    for head in HEADS:
        p, classes = probs[head]
        labels = data[head].labels
        acc = sum(classes[int(max(range(len(classes)), key=lambda j: row[j]))] == y
                  for row, y in zip(p, labels)) / max(1, len(labels))
        out[head] = {"rows": len(labels), "accuracy": round(acc, 3),
                     "log_loss": round(_log_loss(p, classes, labels), 3),
                     "reliability": reliability(_head_pairs(data[head], p, classes))}
    if rows:
        auto = [r for r in rows if not r["forced"] and not r["disagree"] and r["confidence"] >= threshold]
        out["notes"] = len(rows)
        out["codes_right"] = sum(r["right"] for r in rows)
        out["automated"] = len(auto)
        out["automated_right"] = sum(r["right"] for r in auto)
        out["confidence_reliability"] = reliability([(r["confidence"], int(r["right"])) for r in rows])
    return out


# ------------------------------------------------------------------------------------------------
# the review threshold


def simulated_errors(result, view: ModelView, meta: dict) -> list[tuple[float, bool]]:
    """(confidence, sent to review whatever the threshold) the note would get if the rules had made one
    decision wrong, everything else equal.

    Flips, one at a time: anything performed; each level named (treated <-> not treated); the
    technique of each treated body (vertebroplasty <-> augmentation); each untreated level named
    (biopsied <-> not biopsied).
    """
    facts = result.facts
    variants: list[dict] = []
    if facts.procedures:
        variants.append({"procedures": []})
    treated = {p.level for p in facts.procedures}
    for level in sorted(set(view.p_level) | treated, key=LEVEL_ORDER.index):
        if level in treated:
            variants.append({"procedures": [p for p in facts.procedures if p.level != level]})
        else:
            first = facts.procedures[0].technique if facts.procedures else "vertebroplasty"
            technique = "sacroplasty" if level == "sacrum" else (
                first if first != "sacroplasty" else "vertebroplasty")
            added = LevelFacts(level=level, technique=technique, cement="pmma")
            variants.append({"procedures": list(facts.procedures) + [added]})
    for p in facts.procedures:
        if p.technique in ("vertebroplasty", "augmentation"):
            other = "augmentation" if p.technique == "vertebroplasty" else "vertebroplasty"
            swapped = [copy.copy(q) for q in facts.procedures]
            for q in swapped:
                if q.level == p.level:
                    q.technique = other
            variants.append({"procedures": swapped})
    biopsy_only = {b.level for b in facts.biopsy_only}
    for level in sorted(set(view.p_biopsy) - treated, key=LEVEL_ORDER.index):
        if level in biopsy_only:
            variants.append({"biopsy_only": [b for b in facts.biopsy_only if b.level != level]})
        else:
            variants.append({"biopsy_only": list(facts.biopsy_only) + [BiopsyLevel(level=level)]})
    out = []
    for change in variants:
        wrong = copy.copy(facts)
        for k, v in change.items():
            setattr(wrong, k, v)
        wrong.not_treated = [n for n in facts.not_treated if n.level not in {p.level for p in wrong.procedures}]
        a = assess(wrong, assign_codes(wrong, "current"), view, meta)
        out.append((a.confidence, bool(a.forced or a.disagreements)))
    return out


COMBINATION_GRID = {"prior_accuracy": (0.9, 0.95, 0.98), "model_weight": (0.5, 0.75, 1.0, 1.5)}


def _threshold_for(notes: list[GoldNote], results, views: list[ModelView], meta: dict):
    """Out-of-fold confidences of the train notes and of their simulated errors -> threshold."""
    rows, simulated = [], []
    for n, r, v in zip(notes, results, views):
        if r.error:
            continue
        a = assess(r.facts, r.coding, v, meta)
        row = {"confidence": a.confidence, "forced": bool(a.forced), "disagree": bool(a.disagreements),
               "right": _codes_right(r, n.gold)}
        rows.append(row)
        if row["right"] and not row["forced"]:
            simulated += simulated_errors(r, v, meta)
    t, info = choose_threshold(rows, simulated)
    info["threshold"] = t
    return t, info, rows


def choose_threshold(rows: list[dict], simulated: list[tuple[float, bool]]) -> tuple[float, dict]:
    """Review threshold on the train split (out-of-fold).

    rows: the train notes as the rules coded them ({confidence, forced, disagree, right}); simulated:
    (confidence, sent to review anyway) of one-decision rule errors made on the right notes.
    Every real rule error that nothing else sends to review must fall below the threshold; among the
    thresholds left, Youden's J = (share of simulated errors sent to review) - (share of right notes
    without a forcing rule concern sent to review) is maximised. Ties: the higher threshold.
    """
    free = [r for r in rows if r["right"] and not r["forced"]]
    wrong = [r["confidence"] for r in rows if not r["right"] and not r["forced"] and not r["disagree"]]
    floor = max([c + 1e-3 for c in wrong], default=0.0)
    values = [r["confidence"] for r in free] + [c for c, _ in simulated] + wrong
    candidates = sorted({round(c + 1e-3, 3) for c in values} | {0.5})

    def rates(t: float) -> tuple[float, float]:
        caught = sum(always or c < t for c, always in simulated) / max(1, len(simulated))
        lost = sum(r["disagree"] or r["confidence"] < t for r in free) / max(1, len(free))
        return caught, lost

    best, best_j = None, -2.0
    for t in candidates:
        if t <= floor or t > 0.99:
            continue
        caught, lost = rates(t)
        if caught - lost >= best_j - 1e-12:
            best, best_j = t, caught - lost
    t = float(best if best is not None else 0.99)
    caught, lost = rates(t)
    info = {
        "youden_j": round(caught - lost, 3),
        "simulated_errors": len(simulated),
        "simulated_caught": round(caught, 3),
        "right_notes_free": len(free),
        "right_free_sent_to_review": round(lost, 3),
        "real_rule_errors": sum(not r["right"] for r in rows),
    }
    return round(t, 3), info


# ------------------------------------------------------------------------------------------------
# training and evaluation


def versions() -> dict[str, str]:
    import platform

    import numpy
    import scipy
    import sklearn
    import skops

    from .. import __version__

    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__, "skops": skops.__version__,
            "numpy": numpy.__version__, "scipy": scipy.__version__, "spinecode": __version__}


def train(train_dir: Path, out_dir: Path, test_dir: Path | None = None, seed: int = 0,
          write_card: bool = True, rules: RuleRunner | None = None, grid: dict | None = None,
          say=lambda msg: None) -> dict:
    """Train the four heads on `train_dir`, choose the review threshold out-of-fold, write the model.

    Deterministic: fixed folds and seeds, sorted inputs; the model file is byte-for-byte reproducible.
    `rules` runs the rule extractor (RuleRunner; `spinecode train` passes Extractor.pipe). Without it the
    rules are not run (threshold = DEFAULT_THRESHOLD, no automation metrics); that and `grid` (replaces
    GRID, head -> list of {"C": ...}) are for fast tests.
    """
    import datetime

    notes = read_corpus(Path(train_dir))
    if len(notes) < 10:
        raise ValueError(f"{train_dir}: {len(notes)} gold notes; training needs at least 10")
    data, missed = head_data(notes)
    fold = note_folds(notes, seed=seed)
    say(f"train: {len(notes)} notes, {len(data['level'].docs)} level rows, {len(data['technique'].docs)} "
        f"technique rows")
    chosen: dict[str, dict] = {}
    oof: dict[str, tuple] = {}
    cv_scores: dict[str, list] = {}
    for head in HEADS:
        best = None
        for params in (grid or GRID)[head]:
            probs, classes = _oof(head, data[head], fold, params, seed)
            ll = _log_loss(probs, classes, data[head].labels)
            cv_scores.setdefault(head, []).append({**params, "log_loss": round(ll, 4)})
            if best is None or ll < best[0] - 1e-9:
                best = (ll, params, probs, classes)
        assert best is not None
        chosen[head] = best[1]
        oof[head] = (best[2], best[3])
        say(f"  {head}: C={best[1]['C']} out-of-fold log-loss {best[0]:.3f}")
    views = views_from_probs(len(notes), data, oof)
    base = {
        "performed": sum(data["performed"].labels) / len(notes),
        "level": sum(data["level"].labels) / max(1, len(data["level"].labels)),
        "biopsy": sum(data["biopsy"].labels) / max(1, len(data["biopsy"].labels)),
        "technique": {c: data["technique"].labels.count(c) / max(1, len(data["technique"].labels))
                      for c in sorted(set(data["technique"].labels))},
    }
    meta: dict[str, Any] = {"base_rates": base}

    threshold_info: dict[str, Any] = {}
    train_rows: list[dict] = []
    if rules is not None:
        results = _rule_outputs(notes, rules)
        best_combo = None
        for prior in COMBINATION_GRID["prior_accuracy"]:
            for weight in COMBINATION_GRID["model_weight"]:
                trial = dict(meta, prior_accuracy=prior, model_weight=weight)
                t, info, rows = _threshold_for(notes, results, views, trial)
                info = {"prior_accuracy": prior, "model_weight": weight, **info}
                threshold_info.setdefault("grid", []).append(
                    {k: info[k] for k in ("prior_accuracy", "model_weight", "youden_j", "threshold")})
                if best_combo is None or info["youden_j"] > best_combo[1]["youden_j"] + 1e-9:
                    best_combo = (t, info, rows, prior, weight)
        assert best_combo is not None
        threshold, chosen_info, train_rows, prior, weight = best_combo
        meta.update(prior_accuracy=prior, model_weight=weight)
        threshold_info.update(chosen_info)
        say(f"  combination: prior {prior}, model weight {weight}, review threshold {threshold} "
            f"(out-of-fold on train: {chosen_info})")
    else:
        threshold = DEFAULT_THRESHOLD
        meta.update(prior_accuracy=PRIOR_ACCURACY, model_weight=1.0)
    meta["review_threshold"] = threshold

    estimators = {}
    for head in HEADS:
        d = data[head]
        est = make_head(chosen[head]["C"], seed)
        estimators[head] = est.fit(d.docs, d.labels)

    meta.update({
        "trained_on": datetime.date.today().isoformat(),
        "train_notes": len(notes),
        "seed": seed,
        "hyperparameters": chosen,
        "versions": versions(),
        "trusted_types": list(TRUSTED_TYPES),
    })
    out_dir = Path(out_dir)
    path = save_model(estimators, meta, out_dir)
    model = load_model(out_dir)  # the written file must load with the trusted types only

    summary: dict[str, Any] = {
        "model": str(path), "sha256": model.meta["sha256"], "threshold": threshold,
        "threshold_selection": threshold_info, "hyperparameters": chosen, "cv_log_loss": cv_scores,
        "train": _split_metrics(data, oof, train_rows, threshold), "level_finder_missed_train": missed,
    }
    if test_dir is not None and Path(test_dir).is_dir():
        summary["test"] = evaluate_split(model, read_corpus(Path(test_dir)), rules)
    if write_card:
        (out_dir / "MODEL_CARD.md").write_text(model_card(model.meta, summary, len(notes), data, test_dir),
                                               encoding="utf-8")
    return summary


def evaluate_split(model: ConfidenceModel, notes: list[GoldNote], rules: RuleRunner | None = None) -> dict:
    """Head metrics, reliability and (with the rules) automation on a held-out split."""
    data, missed = head_data(notes)
    probs = {}
    for head in HEADS:
        est = model.estimators[head]
        probs[head] = (est.predict_proba(data[head].docs), [x.item() if hasattr(x, "item") else x
                                                              for x in est.classes_])
    rows, simulated = [], []
    if rules is not None:
        for n, r in zip(notes, _rule_outputs(notes, rules)):
            if r.error:
                rows.append({"confidence": 0.0, "forced": True, "disagree": False, "right": False})
                continue
            view = model.view(n.text)
            a = assess(r.facts, r.coding, view, model.meta)
            rows.append({"confidence": a.confidence, "forced": bool(a.forced), "disagree": bool(a.disagreements),
                         "right": _codes_right(r, n.gold)})
            if rows[-1]["right"] and not a.forced:
                simulated += simulated_errors(r, view, model.meta)
    out = _split_metrics(data, probs, rows, model.threshold)
    if simulated:
        out["simulated_errors"] = len(simulated)
        out["simulated_caught"] = round(
            sum(always or c < model.threshold for c, always in simulated) / len(simulated), 3)
    out["level_finder_missed"] = missed
    return out
