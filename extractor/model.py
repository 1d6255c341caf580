"""The trained second opinion behind `confidence` and `review` (issue 7).

A small scikit-learn model reads the note text on its own -- it never sees the rule extractor's facts
-- and answers three questions the codes depend on:

* ``performed``: was any body (or the sacrum) treated in this session?        (note level)
* ``level``:     is this vertebral level, mentioned in the note, treated now?  (one row per level named)
* ``technique``: for a treated level, vertebroplasty, augmentation or sacroplasty? (one row per level)

`extractor.confidence` compares these answers with the rules' facts: review=false needs the rules to
have no serious concern AND the model to back every rule decision.

The model is written with skops (never pickle/joblib for loading), together with a JSON sidecar that
holds the SHA-256 of the model file, the feature version, the review threshold chosen on the train
split and the library versions. Loading checks the hash first (`ModelIntegrityError`), then refuses any
type in the file outside `TRUSTED_TYPES` (`UntrustedModelError`). The loaded model is cached once per
process. Nothing here prints or logs note text.
"""

from __future__ import annotations

import hashlib
import math
import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from .facts import LEVEL_ORDER

FEATURE_VERSION = 1
MODEL_FILE = "confidence.skops"
META_FILE = "confidence.json"
MODEL_DIR_ENV = "SPINECODE_MODEL_DIR"
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "models"

# Every type the model file may hold. Anything else is refused before it is built.
TRUSTED_TYPES: tuple[str, ...] = (
    "builtins.dict",
    "builtins.list",
    "builtins.str",
    "builtins.float",
    "builtins.int",
    "builtins.tuple",
    "builtins.NoneType",
    "builtins.slice",
    "numpy.dtype",
    "numpy.float64",
    "numpy.int64",
    "numpy.ndarray",
    "scipy.sparse._csr.csr_matrix",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_selection._univariate_selection.SelectKBest",
    "sklearn.feature_selection._univariate_selection.chi2",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.FeatureUnion",
    "sklearn.pipeline.Pipeline",
)

TECHNIQUE_CLASSES = ("vertebroplasty", "augmentation", "sacroplasty")


class ModelError(RuntimeError):
    """The confidence model could not be used."""


class ModelIntegrityError(ModelError):
    """The model file does not match the SHA-256 recorded in its sidecar (tampered or replaced)."""


class UntrustedModelError(ModelError):
    """The model file holds types outside the explicit trusted list; it is not loaded."""


# ------------------------------------------------------------------------------------------------
# features: the note text only (normalised and lower-cased); no rule output


_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
            "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
             "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12}
_PREFIX = {"c": "C", "see": "C", "cee": "C", "t": "T", "tea": "T", "tee": "T", "d": "T", "l": "L",
           "el": "L", "ell": "L", "elle": "L"}
_REGION = {"cervical": "C", "thoracic": "T", "dorsal": "T", "lumbar": "L"}
_MAX = {"C": 7, "T": 12, "L": 5}
_LEVEL_RE = re.compile(
    r"\b(?P<p>[ctld])\s?-?\s?(?P<n>\d{1,2})\b"
    rf"|\b(?P<sp>see|cee|tea|tee|el|ell|elle)\s+(?P<sn>{'|'.join(_NUMBERS)})\b"
    rf"|\b(?P<o>{'|'.join(_ORDINALS)})\s+(?P<r>cervical|thoracic|dorsal|lumbar)\b"
)
_RANGE_RE = re.compile(r"\s*(?:-|–|—|to|through|thru)\s*(?:(?P<p>[ctld])\s?-?\s?)?(?P<n>\d{1,2})\b")
_NAMED_RE = re.compile(r"\b(?:sacr(?:um|al|oplasty|oplasties)|s[1-3]|dens|odontoid)\b")
_WORD_RE = re.compile(r"[a-z]+")
_HEADING_RE = re.compile(r"^[ \t]*([A-Za-z][A-Za-z /&()-]{1,40}?)[ \t]*:", re.MULTILINE)
_CAPS_HEADING_RE = re.compile(r"^[ \t]*([A-Z][A-Z /&()-]{2,40})[ \t]*$", re.MULTILINE)
_SENTENCE_END_RE = re.compile(r"[.;!?](?:\s|$)|\n[ \t]*\n")
CONTEXT_WORDS = 16
NEAR_WORDS = 4


@dataclass(frozen=True)
class LevelMention:
    start: int
    end: int
    levels: tuple[str, ...]
    is_range: bool


def _make(prefix: str, number: int) -> Optional[str]:
    return f"{prefix}{number}" if 1 <= number <= _MAX[prefix] else None


def find_levels(text: str) -> list[LevelMention]:
    """Level mentions in the text (T12, T-12, 'tea twelve', 'twelfth thoracic', T11-L1, sacrum, dens)."""
    low = text.lower()
    out: list[LevelMention] = []
    for m in _LEVEL_RE.finditer(low):
        if m.group("p"):
            first = _make(_PREFIX[m.group("p")], int(m.group("n")))
        elif m.group("sp"):
            first = _make(_PREFIX[m.group("sp")], _NUMBERS[m.group("sn")])
        else:
            first = _make(_REGION[m.group("r")], _ORDINALS[m.group("o")])
        if first is None:
            continue
        levels, end, is_range = (first,), m.end(), False
        r = _RANGE_RE.match(low, m.end()) if m.group("p") else None
        if r:
            last = _make(_PREFIX[r.group("p")] if r.group("p") else first[0], int(r.group("n")))
            if last is not None:
                i, j = LEVEL_ORDER.index(first), LEVEL_ORDER.index(last)
                if i < j <= i + 8:
                    levels, end, is_range = LEVEL_ORDER[i : j + 1], r.end(), True
        out.append(LevelMention(m.start(), end, tuple(levels), is_range))
    for m in _NAMED_RE.finditer(low):
        level = "C2" if m.group(0) in ("dens", "odontoid") else "sacrum"
        out.append(LevelMention(m.start(), m.end(), (level,), False))
    out.sort(key=lambda x: x.start)
    return out


def _headings(text: str) -> list[tuple[int, str]]:
    found = [(m.start(), m.group(1)) for m in _HEADING_RE.finditer(text) if len(m.group(1).split()) <= 5]
    found += [(m.start(), m.group(1)) for m in _CAPS_HEADING_RE.finditer(text)]
    return sorted(found)


def _section_of(headings: list[tuple[int, str]], pos: int) -> list[str]:
    name = ""
    for start, heading in headings:
        if start > pos:
            break
        name = heading
    return ["sec_" + w for w in _WORD_RE.findall(name.lower())] or ["sec_none"]


def _sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    left = 0
    for m in _SENTENCE_END_RE.finditer(text, max(0, start - 600), start):
        left = m.end()
    m = _SENTENCE_END_RE.search(text, end, min(len(text), end + 600))
    right = m.start() if m else min(len(text), end + 600)
    return left, right


def level_documents(text: str) -> dict[str, str]:
    """One pseudo-document per level named in the note: the words around each of its mentions."""
    from .text import normalize

    text = normalize(text)
    low = text.lower()
    mentions = find_levels(text)
    headings = _headings(text)
    n_levels = len({lv for m in mentions for lv in m.levels})
    tokens: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for m in mentions:
        s_left, s_right = _sentence_bounds(low, m.start, m.end)
        left = _WORD_RE.findall(low[s_left : m.start])[-CONTEXT_WORDS:]
        right = _WORD_RE.findall(low[m.end : s_right])[:CONTEXT_WORDS]
        near = ["n_" + w for w in left[-NEAR_WORDS:] + right[:NEAR_WORDS]]
        feats = ["l_" + w for w in left] + ["r_" + w for w in right] + near + left + right
        feats += _section_of(headings, m.start)
        feats.append(f"pos_{min(3, int(4 * m.start / max(1, len(low))))}")
        feats.append("in_range" if m.is_range else ("in_list" if len(m.levels) > 1 else "alone"))
        for lv in m.levels:
            tokens.setdefault(lv, []).extend(feats)
            counts[lv] = counts.get(lv, 0) + 1
    docs = {}
    for lv, feats in tokens.items():
        region = "sacral" if lv == "sacrum" else lv[0]
        feats = feats + [f"mentions_{min(counts[lv], 6)}", f"levels_{min(n_levels, 6)}", f"region_{region}"]
        docs[lv] = " ".join(feats)
    return docs


def note_document(text: str) -> str:
    from .text import normalize

    return normalize(text).lower()


def technique_document(level_doc: str, note_doc: str) -> str:
    """A treated level's context plus the words of the whole note (prefixed), for the technique head."""
    return level_doc + " " + " ".join("d_" + w for w in sorted(set(_WORD_RE.findall(note_doc))))


# ------------------------------------------------------------------------------------------------
# labels from gold files


def performed_label(gold: dict) -> int:
    return int(bool(gold.get("procedures")))


def level_labels(gold: dict) -> dict[str, str]:
    """level -> technique for every level treated in the gold."""
    return {p["level"]: p["technique"] for p in gold.get("procedures") or []}


# ------------------------------------------------------------------------------------------------
# the estimators


HEADS = ("performed", "level", "technique")
# hyper-parameters tried per head; the one with the best out-of-fold log-loss on the train split wins
GRID: dict[str, list[dict]] = {
    "performed": [{"C": c, "k": None} for c in (1.0, 10.0, 100.0)],
    "level": [{"C": c, "k": k} for c in (3.0, 10.0, 30.0) for k in (None, 300)],
    "technique": [{"C": c, "k": k} for c in (10.0, 30.0, 100.0) for k in (None, 200, 500)],
}


def make_head(head: str, C: float, k: Optional[int], seed: int = 0) -> Any:
    """One head's pipeline: TF-IDF features (chi2-selected when k is set) → logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.feature_selection import SelectKBest, chi2
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    if head == "performed":
        features: Any = FeatureUnion([
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2)),
        ])
    else:
        features = TfidfVectorizer(token_pattern=r"\S+", lowercase=False, sublinear_tf=True, min_df=2)
    steps: list[tuple[str, Any]] = [("features", features)]
    if k is not None:
        steps.append(("select", SelectKBest(chi2, k=k)))
    steps.append(("clf", LogisticRegression(C=C, max_iter=10000, random_state=seed)))
    return Pipeline(steps)


# ------------------------------------------------------------------------------------------------
# the model's view of one note


@dataclass
class ModelView:
    """The model's probabilities, and how far they back the rules' decisions."""

    p_performed: float
    p_level: dict[str, float] = field(default_factory=dict)  # P(treated now) for every level named
    p_technique: dict[str, dict[str, float]] = field(default_factory=dict)  # level -> class -> P


class ConfidenceModel:
    def __init__(self, estimators: dict[str, Any], meta: dict):
        self.estimators = estimators
        self.meta = meta

    @property
    def threshold(self) -> float:
        return float(self.meta["review_threshold"])

    def view(self, text: str) -> ModelView:
        note_doc = note_document(text)
        p_perf = _positive(self.estimators["performed"], [note_doc])[0]
        docs = level_documents(text)
        levels = sorted(docs, key=LEVEL_ORDER.index)
        view = ModelView(p_performed=float(p_perf))
        if levels:
            p = _positive(self.estimators["level"], [docs[lv] for lv in levels])
            view.p_level = {lv: float(x) for lv, x in zip(levels, p)}
            tech = self.estimators["technique"]
            probs = tech.predict_proba([technique_document(docs[lv], note_doc) for lv in levels])
            classes = [str(c) for c in tech.classes_]
            view.p_technique = {lv: {c: float(x) for c, x in zip(classes, row)} for lv, row in zip(levels, probs)}
        return view


def _positive(estimator, docs: list[str]) -> list[float]:
    probs = estimator.predict_proba(docs)
    k = list(estimator.classes_).index(1)
    return [float(row[k]) for row in probs]


# ------------------------------------------------------------------------------------------------
# saving and loading


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def save_model(estimators: dict[str, Any], meta: dict, out_dir: Path) -> Path:
    """Write MODEL_FILE (skops, canonical bytes) and META_FILE (sidecar with its SHA-256)."""
    import skops.io as sio

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / MODEL_FILE
    _strip_run_state(estimators)
    sio.dump(estimators, path)
    _canonical_skops(path)
    save_meta_after_check(path, meta)
    return path


def load_model(model_dir: Optional[Path] = None) -> ConfidenceModel:
    """Load and verify the model. Raises FileNotFoundError when absent, ModelError when refused."""
    import skops.io as sio

    model_dir = Path(model_dir) if model_dir is not None else default_model_dir()
    path, meta_path = model_dir / MODEL_FILE, model_dir / META_FILE
    if not path.is_file():
        raise FileNotFoundError(f"confidence model not found: {path}")
    if not meta_path.is_file():
        raise ModelIntegrityError(f"{meta_path.name} (the SHA-256 sidecar) is missing; the model file is not loaded")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        expected = str(meta["sha256"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelIntegrityError(f"{meta_path.name} is not a valid model sidecar ({type(exc).__name__})") from None
    actual = sha256_of(path)
    if actual != expected:
        raise ModelIntegrityError(
            f"{path.name} does not match the SHA-256 recorded in {meta_path.name} "
            f"(expected {expected[:12]}..., found {actual[:12]}...): the file was modified or replaced; "
            "retrain with `spinecode train` or restore the committed file"
        )
    if meta.get("feature_version") != FEATURE_VERSION:
        raise ModelError(
            f"model was trained with feature version {meta.get('feature_version')}, this code uses "
            f"{FEATURE_VERSION}: retrain with `spinecode train`"
        )
    try:
        untrusted = sorted(set(sio.get_untrusted_types(file=path)) - set(TRUSTED_TYPES))
    except Exception as exc:  # not a skops archive at all
        raise ModelIntegrityError(f"{path.name} is not a readable skops file ({type(exc).__name__})") from None
    if untrusted:
        raise UntrustedModelError(f"{path.name} holds types outside the trusted list, refused: {untrusted}")
    try:
        estimators = sio.load(path, trusted=list(TRUSTED_TYPES))
    except Exception as exc:
        raise UntrustedModelError(f"{path.name} could not be loaded with the trusted types only ({exc})") from None
    if not isinstance(estimators, dict) or set(estimators) != {"performed", "level", "technique"}:
        raise ModelError(f"{path.name} does not hold the expected estimators")
    return ConfidenceModel(estimators, meta)


def default_model_dir() -> Path:
    return Path(os.environ.get(MODEL_DIR_ENV) or DEFAULT_MODEL_DIR)


_CACHE: dict[str, tuple[Optional[ConfidenceModel], Optional[str]]] = {}
_LOCK = threading.Lock()


def get_model() -> tuple[Optional[ConfidenceModel], Optional[str]]:
    """(model, problem): the process-wide model, loaded on first use; problem says why it is None."""
    key = str(default_model_dir())
    with _LOCK:
        if key not in _CACHE:
            try:
                _CACHE[key] = (load_model(Path(key)), None)
            except FileNotFoundError:
                _CACHE[key] = (None, "confidence model not found; rule-based confidence only")
            except ModelError as exc:
                _CACHE[key] = (None, f"confidence model refused ({type(exc).__name__}: {exc}); "
                                     "rule-based confidence only")
        return _CACHE[key]


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()


# ------------------------------------------------------------------------------------------------
# training (`spinecode train`)


@dataclass
class GoldNote:
    note_id: str
    text: str
    gold: dict


def read_corpus(folder: Path) -> list[GoldNote]:
    """Every NAME.txt with a NAME.gold.json in `folder`, sorted by name."""
    from .text import decode_note

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
    level: list[Optional[str]] = field(default_factory=list)


def head_data(notes: list[GoldNote]) -> tuple[dict[str, HeadData], int]:
    """Rows of the three heads, and the number of gold-treated levels the level finder missed."""
    data = {h: HeadData() for h in HEADS}
    missed = 0
    for i, n in enumerate(notes):
        note_doc = note_document(n.text)
        data["performed"].docs.append(note_doc)
        data["performed"].labels.append(performed_label(n.gold))
        data["performed"].note.append(i)
        data["performed"].level.append(None)
        treated = level_labels(n.gold)
        docs = level_documents(n.text)
        missed += len(set(treated) - set(docs))
        for level in sorted(docs, key=LEVEL_ORDER.index):
            data["level"].docs.append(docs[level])
            data["level"].labels.append(int(level in treated))
            data["level"].note.append(i)
            data["level"].level.append(level)
            if level in treated:
                data["technique"].docs.append(technique_document(docs[level], note_doc))
                data["technique"].labels.append(treated[level])
                data["technique"].note.append(i)
                data["technique"].level.append(level)
    return data, missed


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
        est = make_head(head, params["C"], _k(params["k"], data, train), seed)
        est.fit([data.docs[r] for r in train], [data.labels[r] for r in train])
        probs = est.predict_proba([data.docs[r] for r in test])
        cols = [classes.index(c) for c in est.classes_]
        for j, r in enumerate(test):
            out[r, cols] = probs[j]
    return out, classes


def _k(k: Optional[int], data: HeadData, rows: list[int]) -> Optional[int]:
    """chi2 selection keeps at most k features ('all' when the vocabulary is smaller)."""
    if k is None:
        return None
    from sklearn.feature_extraction.text import TfidfVectorizer

    vocab = TfidfVectorizer(token_pattern=r"\S+", lowercase=False, min_df=2).fit([data.docs[r] for r in rows])
    return k if len(vocab.vocabulary_) > k else None


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
    t_probs, t_classes = probs["technique"]
    for r, (i, level) in enumerate(zip(data["technique"].note, data["technique"].level)):
        views[i].p_technique[level] = {str(c): float(p) for c, p in zip(t_classes, t_probs[r])}
    return views


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
    """(predicted probability, happened) over every row and class: one-vs-rest reliability."""
    return [(float(row[j]), int(y == c)) for row, y in zip(probs, data.labels) for j, c in enumerate(classes)]


def _rule_outputs(notes: list[GoldNote]):
    from .api import Extractor

    extractor = Extractor()
    results = list(extractor.pipe([(n.note_id, n.text) for n in notes]))
    return results


def _codes_right(result, gold: dict) -> bool:
    from .evaluate import code_pairs

    rec = result.to_dict()
    return "error" not in rec and code_pairs(rec["codes"]) == code_pairs(gold.get("codes", []))


def simulated_error_confidences(result, view: ModelView, meta: dict, text: str) -> list[float]:
    """Confidence the note would get if the rules had made one decision wrong (everything else equal).

    Flips, one at a time: anything performed; each level named (treated <-> not treated); the
    technique of each treated body (vertebroplasty <-> augmentation).
    """
    import copy

    from .coding import assign_codes
    from .confidence import assess
    from .facts import LevelFacts

    facts = result.facts
    out = []
    variants = []
    if facts.procedures:
        variants.append(dict(procedures=[]))
    treated = {p.level for p in facts.procedures}
    for level in sorted(set(view.p_level) | treated, key=LEVEL_ORDER.index):
        if level in treated:
            variants.append(dict(procedures=[p for p in facts.procedures if p.level != level]))
        else:
            technique = "sacroplasty" if level == "sacrum" else (
                facts.procedures[0].technique if facts.procedures and facts.procedures[0].technique
                != "sacroplasty" else "vertebroplasty")
            added = LevelFacts(level=level, technique=technique, cement="pmma")
            variants.append(dict(procedures=list(facts.procedures) + [added]))
    for p in facts.procedures:
        if p.technique in ("vertebroplasty", "augmentation"):
            other = "augmentation" if p.technique == "vertebroplasty" else "vertebroplasty"
            swapped = [copy.copy(q) for q in facts.procedures]
            for q in swapped:
                if q.level == p.level:
                    q.technique = other
            variants.append(dict(procedures=swapped))
    for change in variants:
        wrong = copy.copy(facts)
        for k, v in change.items():
            setattr(wrong, k, v)
        wrong.not_treated = [n for n in facts.not_treated if n.level not in {p.level for p in wrong.procedures}]
        coding = assign_codes(wrong, "current")
        out.append(assess(wrong, coding, text, view, meta).confidence)
    return out


def choose_threshold(correct: list[tuple[float, bool]], wrong_real: list[float],
                     simulated: list[float]) -> tuple[float, dict]:
    """Review threshold on the train split (out-of-fold): every real rule error there must fall below it;
    among the rest, the threshold maximises Youden's J = (share of simulated one-decision rule errors
    sent to review) - (share of right, not otherwise flagged notes sent to review). Ties: the higher."""
    free = [c for c, forced in correct if not forced]
    candidates = sorted(set([round(c + 1e-3, 3) for c in free + simulated + wrong_real] + [0.5]))
    floor = max([c + 1e-3 for c in wrong_real], default=0.0)
    best, best_j = None, -2.0
    for t in candidates:
        if t <= floor:
            continue
        caught = sum(c < t for c in simulated) / max(1, len(simulated))
        lost = sum(c < t for c in free) / max(1, len(free))
        j = caught - lost
        if j >= best_j - 1e-12:
            best, best_j = t, j
    t = float(best if best is not None else 0.99)
    info = {
        "youden_j": round(best_j, 3),
        "simulated_errors": len(simulated),
        "simulated_caught": round(sum(c < t for c in simulated) / max(1, len(simulated)), 3),
        "right_notes_free": len(free),
        "right_free_sent_to_review": round(sum(c < t for c in free) / max(1, len(free)), 3),
        "real_rule_errors": len(wrong_real),
    }
    return round(t, 3), info


def _canonical_skops(path: Path) -> None:
    """Rewrite a skops archive so that the same model always gives the same bytes.

    skops names array files and memo ids after Python object ids and stamps the zip entries with the
    current time; both are renumbered in order of appearance and the time is fixed. The content and
    the structure are unchanged (the result is loaded and checked by the caller).
    """
    import zipfile

    with zipfile.ZipFile(path) as z:
        schema = json.loads(z.read("schema.json"))
        blobs = {name: z.read(name) for name in z.namelist() if name != "schema.json"}
    ids: dict[Any, int] = {}
    files: dict[str, str] = {}

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "__id__":
                    node[key] = ids.setdefault(value, len(ids) + 1)
                elif key == "file" and isinstance(value, str) and value in blobs:
                    node[key] = files.setdefault(value, f"{len(files) + 1:05d}.npy")
                else:
                    visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(schema)
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        def put(name: str, data: bytes) -> None:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)

        put("schema.json", json.dumps(schema, indent=2).encode("utf-8"))
        for old, new in sorted(files.items(), key=lambda kv: kv[1]):
            put(new, blobs[old])
    os.replace(tmp, path)


def _strip_run_state(estimators: dict[str, Any]) -> None:
    """Drop attributes that hold Python object ids (TfidfVectorizer._stop_words_id): no effect on output."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    def walk(obj: Any) -> None:
        if isinstance(obj, TfidfVectorizer) and hasattr(obj, "_stop_words_id"):
            del obj._stop_words_id
        for attr in ("steps", "transformer_list"):
            for _, child in getattr(obj, attr, []) or []:
                walk(child)

    for est in estimators.values():
        walk(est)


def versions() -> dict[str, str]:
    import platform

    import numpy
    import scipy
    import sklearn
    import skops

    from . import __version__

    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__, "skops": skops.__version__,
            "numpy": numpy.__version__, "scipy": scipy.__version__, "spinecode": __version__}


def train(train_dir: Path, out_dir: Path, test_dir: Optional[Path] = None, seed: int = 0,
          write_card: bool = True, evaluate_rules: bool = True, say=lambda msg: None) -> dict:
    """Train the three heads on `train_dir`, choose the review threshold out-of-fold, write the model.

    Deterministic: fixed folds and seeds, sorted inputs; the model file is byte-for-byte reproducible.
    `evaluate_rules=False` skips running the rule extractor (threshold = DEFAULT_THRESHOLD): for tests.
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
        for params in GRID[head]:
            probs, classes = _oof(head, data[head], fold, params, seed)
            ll = _log_loss(probs, classes, data[head].labels)
            cv_scores.setdefault(head, []).append({**params, "log_loss": round(ll, 4)})
            if best is None or ll < best[0] - 1e-9:
                best = (ll, params, probs, classes)
        assert best is not None
        chosen[head] = best[1]
        oof[head] = (best[2], best[3])
        say(f"  {head}: C={best[1]['C']} k={best[1]['k']} out-of-fold log-loss {best[0]:.3f}")
    views = views_from_probs(len(notes), data, oof)
    base = {
        "performed": sum(data["performed"].labels) / len(notes),
        "level": sum(data["level"].labels) / max(1, len(data["level"].labels)),
        "technique": {c: data["technique"].labels.count(c) / max(1, len(data["technique"].labels))
                      for c in sorted(set(data["technique"].labels))},
    }
    meta: dict[str, Any] = {"base_rates": base}

    threshold_info: dict[str, Any] = {}
    train_rows: list[dict] = []
    if evaluate_rules:
        from .confidence import assess

        results = _rule_outputs(notes)
        correct, wrong_real, simulated = [], [], []
        for n, r, v in zip(notes, results, views):
            if r.error:
                continue
            a = assess(r.facts, r.coding, n.text, v, meta)
            right = _codes_right(r, n.gold)
            train_rows.append({"confidence": a.confidence, "forced": bool(a.forced), "right": right})
            if right:
                correct.append((a.confidence, bool(a.forced)))
                if not a.forced:
                    simulated += simulated_error_confidences(r, v, meta, n.text)
            elif not a.forced:
                wrong_real.append(a.confidence)
        threshold, threshold_info = choose_threshold(correct, wrong_real, simulated)
        say(f"  review threshold {threshold} (out-of-fold on train: {threshold_info})")
    else:
        from .confidence import DEFAULT_THRESHOLD

        threshold = DEFAULT_THRESHOLD
    meta["review_threshold"] = threshold

    estimators = {}
    for head in HEADS:
        d = data[head]
        est = make_head(head, chosen[head]["C"], _k(chosen[head]["k"], d, list(range(len(d.docs)))), seed)
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
        summary["test"] = evaluate_split(model, read_corpus(Path(test_dir)), run_rules=evaluate_rules)
    if write_card:
        (out_dir / "MODEL_CARD.md").write_text(model_card(model.meta, summary, len(notes), data, test_dir),
                                               encoding="utf-8")
    return summary


def save_meta_after_check(path: Path, meta: dict) -> None:
    import skops.io as sio

    untrusted = sorted(set(sio.get_untrusted_types(file=path)) - set(TRUSTED_TYPES))
    if untrusted:  # a new scikit-learn may add types: fail at training, not at the first extraction
        path.unlink()
        raise UntrustedModelError(f"the trained model holds types outside TRUSTED_TYPES: {untrusted}")
    meta = dict(meta, model_file=MODEL_FILE, sha256=sha256_of(path), feature_version=FEATURE_VERSION)
    (path.parent / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")


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
        auto = [r for r in rows if not r["forced"] and r["confidence"] >= threshold]
        out["notes"] = len(rows)
        out["codes_right"] = sum(r["right"] for r in rows)
        out["automated"] = len(auto)
        out["automated_right"] = sum(r["right"] for r in auto)
        out["confidence_reliability"] = reliability([(r["confidence"], int(r["right"])) for r in rows])
    return out


def evaluate_split(model: ConfidenceModel, notes: list[GoldNote], run_rules: bool = True) -> dict:
    """Head metrics, reliability and (with the rules) automation on a held-out split."""
    data, missed = head_data(notes)
    probs = {}
    for head in HEADS:
        est = model.estimators[head]
        probs[head] = (est.predict_proba(data[head].docs), [x.item() if hasattr(x, "item") else x
                                                              for x in est.classes_])
    rows = []
    if run_rules:
        from .confidence import assess

        for n, r in zip(notes, _rule_outputs(notes)):
            if r.error:
                rows.append({"confidence": 0.0, "forced": True, "right": False})
                continue
            a = assess(r.facts, r.coding, n.text, model.view(n.text), model.meta)
            rows.append({"confidence": a.confidence, "forced": bool(a.forced), "right": _codes_right(r, n.gold)})
    out = _split_metrics(data, probs, rows, model.threshold)
    out["level_finder_missed"] = missed
    return out


def model_card(meta: dict, summary: dict, n_train: int, data: dict, test_dir) -> str:
    return json.dumps(summary, indent=1)
