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
    """Write MODEL_FILE (skops) and META_FILE (sidecar with the SHA-256). Returns the model path."""
    import skops.io as sio

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / MODEL_FILE
    sio.dump(estimators, path)
    untrusted = sorted(set(sio.get_untrusted_types(file=path)) - set(TRUSTED_TYPES))
    if untrusted:  # a new scikit-learn may add types: fail at training, not at the first extraction
        path.unlink()
        raise UntrustedModelError(f"the trained model holds types outside TRUSTED_TYPES: {untrusted}")
    meta = dict(meta, model_file=MODEL_FILE, sha256=sha256_of(path), feature_version=FEATURE_VERSION)
    (out_dir / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
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
