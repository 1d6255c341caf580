"""The trained second opinion behind `confidence` and `review` (issue 7).

A small scikit-learn model reads the note text on its own -- it never sees the rule extractor's facts,
so it can disagree with them -- and answers four questions the codes depend on:

* ``performed``: was any body (or the sacrum) treated in this session?          (one row per note)
* ``level``:     is this level, named in the note, treated in this session?      (one row per level named)
* ``technique``: vertebroplasty, augmentation or sacroplasty?                    (one row per treated level)
* ``biopsy``:    was this level biopsied in this session?                        (one row per level named)

Features are compact on purpose (about 60 training notes): a level finder, section headings, small cue
lexicons (cavity, cement, abort, plan, history, ...) with negation marks, a few words next to each
level; TF-IDF over those tokens, then logistic regression per head (`spinecode train`, `train()`).

`extractor.confidence` compares the answers with the rules' facts: review=false needs no serious rule
concern, no model disagreement and a confidence at or above the threshold chosen on the train split.

The model is written with skops (never pickle/joblib for loading) in a canonical byte layout (same
training -> same file), with a JSON sidecar holding its SHA-256, the feature version, the threshold and
the library versions. Loading checks the hash first (`ModelIntegrityError`), then refuses any type
outside the explicit `TRUSTED_TYPES` (`UntrustedModelError`). The loaded model is cached once per
process. Nothing here prints or logs note text.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import os
import re
import threading
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from operator import mul
from pathlib import Path
from typing import Any

from .facts import LEVEL_ORDER
from .levels import _make
from .levels import _vocab as levels_vocab

FEATURE_VERSION = 1
MODEL_FILE = "confidence.skops"
META_FILE = "confidence.json"
# The same linear heads as plain JSON numbers, for inference without importing scikit-learn and skops
# (≈ 5 s of imports per process). Written at training from the audited skops model; its SHA-256 is in
# META_FILE. Plain JSON holds no code, so loading it cannot execute anything.
RUNTIME_FILE = "confidence.runtime.json"
MODEL_DIR_ENV = "SPINECODE_MODEL_DIR"
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "models"

# Every type the model file may hold, and how skops may build it. Anything else is refused before the
# file is loaded -- also types that skops itself would trust by default (any scikit-learn class).
TRUSTED_TYPES: tuple[str, ...] = (
    "builtins.bool",
    "builtins.dict",
    "builtins.float",
    "builtins.int",
    "builtins.list",
    "builtins.NoneType",
    "builtins.str",
    "builtins.tuple",
    "numpy.float64",
    "numpy.int64",
    "numpy.ndarray",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.Pipeline",
)
TRUSTED_LOADERS = frozenset({"DictNode", "JsonNode", "ListNode", "NdArrayNode", "ObjectNode", "TupleNode", "TypeNode"})

TECHNIQUE_CLASSES = ("vertebroplasty", "augmentation", "sacroplasty")


class ModelError(RuntimeError):
    """The confidence model could not be used."""


class ModelIntegrityError(ModelError):
    """The model file does not match the SHA-256 recorded in its sidecar (tampered or replaced)."""


class UntrustedModelError(ModelError):
    """The model file holds types outside the explicit trusted list; it is not loaded."""


# ------------------------------------------------------------------------------------------------
# features: the note text only (normalised and lower-cased); no rule output


# The level vocabulary is the rules' (patterns/levels.json); the finder below is the model's own, on
# raw text, so its view stays independent of the rule pipeline it is meant to check.
_VOCAB = levels_vocab()
_NUMBERS = _VOCAB["numbers"]
_ORDINALS = {w: n for w, n in _VOCAB["ordinals"].items() if w.isalpha()}  # frozen with FEATURE_VERSION
_PREFIX = _VOCAB["prefixes"]
_REGION = _VOCAB["regions"]
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
CONTEXT_WORDS = 16  # words of the mention's sentence kept on each side
NEAR_WORDS = 4  # words on each side kept as they are
CUE_NEAR_WORDS = 8  # words on each side looked at for "near" cues
NEGATION_WINDOW = (5, 2)  # words before / after a cue that can negate it

# Small cue lexicons (word prefixes), frozen with FEATURE_VERSION: what the words are about. The heads
# learn how much each cue counts; compact features generalise better than raw n-grams on ~60 notes.
CUES: dict[str, re.Pattern] = {name: re.compile(rf"^(?:{pattern})") for name, pattern in {
    "cavity": r"balloon|inflat|tamp|cavit|kypho|spinejack|kiva|osteotom|curett|reamer|implant|expand|drill"
              r"|creat",
    "direct": r"vertebroplast|direct|straight",
    "sacral": r"sacroplast|sacr|ala|alar",
    "cement": r"cement|pmma|methylmeth|polymethyl|filler|calcium|graft|allograft|cortoss|substitute",
    "inject": r"inject|instill|deliver|fill|extrud|flow|interdigit|opacif",
    "access": r"trocar|cannul|needle|pedicl|transpedic|bipedic|unipedic|parapedic|extrapedic|gauge|stylet",
    "treat": r"treat|augment|perform|complet|done|level",
    "abort": r"abort|abandon|terminat|stopp|discontinu|unable|fail|withdr|convert",
    "plan": r"plan|will|schedul|futur|consider|candidat|recommend|defer|postpon|cancel|reschedul|tentativ"
            r"|possibl|may|would|if",
    "history": r"prior|previous|histor|hx|heal|chronic|remote|ago|earlier|old|known",
    "visit": r"clinic|consult|follow|visit|office|telephone|phone|return|seen",
    "finding": r"fractur|compress|wedge|height|edema|lesion|lytic|mri|ct|pet|scan|show|demonstrat|seen"
               r"|signal|stir|deformit|collaps|metasta",
    "sedation": r"sedat|anesth|fentanyl|midazolam|versed|propofol",
    "complete": r"tolerat|uneventful|recover|success|satisfactor|excellent",
    "volume": r"ml|cc",
    "biopsy": r"biops|specimen|core|patholog",
}.items()}
_NEGATION = re.compile(r"^(?:no|not|never|without|abandon\w*|instead|unable|cancel\w*|defer\w*|abort\w*|nor)$")
SECTION_CLASSES: dict[str, tuple[str, ...]] = {
    "procedure": ("procedure", "procedures", "technique", "operation", "detail", "details", "description",
                  "narrative", "op", "findings", "performed"),
    "history": ("indication", "indications", "history", "hpi", "diagnosis", "clinical", "reason", "background",
                "pre", "preop", "imaging", "assessment"),
    "plan": ("plan", "recommendation", "recommendations", "disposition", "follow", "discharge", "instructions"),
    "impression": ("impression", "summary", "conclusion", "result", "results", "post", "postop"),
    "addendum": ("addendum", "correction", "amended", "amendment"),
}


@dataclass(frozen=True)
class LevelMention:
    start: int
    end: int
    levels: tuple[str, ...]
    is_range: bool


def find_levels(text: str) -> list[LevelMention]:
    """Level mentions in the text (T12, T-12, 'tea twelve', 'twelfth thoracic', T11-L1, sacrum, dens)."""
    return list(_find_levels(text))


@functools.lru_cache(maxsize=4)  # featurize and confidence._level_signals ask for the same note
def _find_levels(text: str) -> tuple[LevelMention, ...]:
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
    return tuple(out)


def _headings(text: str) -> list[tuple[int, str]]:
    found = [(m.start(), m.group(1)) for m in _HEADING_RE.finditer(text) if len(m.group(1).split()) <= 5]
    found += [(m.start(), m.group(1)) for m in _CAPS_HEADING_RE.finditer(text)]
    return sorted(found)


def _section_at(headings: list[tuple[int, str]], pos: int) -> tuple[list[str], list[str]]:
    """(heading words, section classes) of the section holding `pos`."""
    name = ""
    for start, heading in headings:
        if start > pos:
            break
        name = heading
    words, classes = _heading_classes(name)
    return list(words), list(classes)


@functools.lru_cache(maxsize=4096)  # headings repeat within and across notes
def _heading_classes(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    words = _WORD_RE.findall(name.lower())
    classes = [c for c, keys in SECTION_CLASSES.items() if set(words) & set(keys)] or ["other"]
    return tuple(words), tuple(classes)


def _sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    left = 0
    for m in _SENTENCE_END_RE.finditer(text, max(0, start - 600), start):
        left = m.end()
    m = _SENTENCE_END_RE.search(text, end, min(len(text), end + 600))
    right = m.start() if m else min(len(text), end + 600)
    return left, right


@functools.lru_cache(maxsize=65536)
def _cue_classes(word: str) -> tuple[str, ...]:
    """The cue classes one word belongs to (cached: a note repeats its words, notes share them)."""
    return tuple(name for name, pat in CUES.items() if pat.match(word))


@functools.lru_cache(maxsize=65536)
def _negates(word: str) -> bool:
    return _NEGATION.match(word) is not None


def _cues(words: list[str], i: int, found: tuple[str, ...] | None = None) -> list[str]:
    """Cue classes of words[i] (`found`, if the caller has them), each marked _neg when a negation
    word is close."""
    if found is None:
        found = _cue_classes(words[i])
    if not found:
        return []
    before, after = NEGATION_WINDOW
    neg = any(map(_negates, words[max(0, i - before) : i] + words[i + 1 : i + 1 + after]))
    return [name + ("_neg" if neg else "") for name in found]


def _cue_set(words: list[str]) -> set[str]:
    # most words are no cue: look the class up first, call _cues only for cue words
    out: set[str] = set()
    for i, word in enumerate(words):
        found = _cue_classes(word)
        if found:
            out.update(_cues(words, i, found))
    return out


def _note_cues(text: str) -> list[str]:
    """Cue tokens of the whole note: class, class+word stem, class within its section class."""
    headings = _headings(text)
    low = text.lower()
    out = []
    for para in re.finditer(r"[^\n]+", low):
        _, classes = _section_at(headings, para.start())
        words = _WORD_RE.findall(para.group(0))
        for i, w in enumerate(words):
            found = _cue_classes(w)
            if not found:
                continue
            for cue in _cues(words, i, found):
                out.append(f"nc_{cue}")
                out.append(f"nc_{cue}_{w[:6]}")
                out += [f"nc_{cue}_in_{c}" for c in classes]
    return out


@dataclass
class NoteFeatures:
    note_doc: str  # the performed head's row
    level_docs: dict[str, str]  # the level head's rows, one per level named
    technique_docs: dict[str, str]  # the technique head's rows, one per level named


def featurize(text: str) -> NoteFeatures:
    """All the model's inputs for one note (the text only; nothing from the rule extractor)."""
    from .text import normalize

    text = normalize(text)
    low = text.lower()
    mentions = find_levels(text)
    headings = _headings(text)
    note_cues = _note_cues(text)
    note_doc = " ".join(note_cues)
    # the note's cue classes (with negation), without the word-level detail, for the level rows
    note_summary = sorted({t for t in note_cues if t.count("_") == 1 or (t.endswith("_neg") and t.count("_") == 2)})
    n_levels = len({lv for m in mentions for lv in m.levels})
    tokens: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    local: dict[str, set[str]] = {}
    for m in mentions:
        s_left, s_right = _sentence_bounds(low, m.start, m.end)
        left = _WORD_RE.findall(low[s_left : m.start])[-CONTEXT_WORDS:]
        right = _WORD_RE.findall(low[m.end : s_right])[:CONTEXT_WORDS]
        words, classes = _section_at(headings, m.start)
        feats = ["n_" + w for w in left[-NEAR_WORDS:] + right[:NEAR_WORDS]]
        feats += ["sec_" + w for w in words] or ["sec_none"]
        feats += [f"seccls_{c}" for c in classes]
        sentence_cues = _cue_set(left + right)
        spans = {
            "sent": sentence_cues,
            "before": _cue_set(left[-CUE_NEAR_WORDS:]),
            "after": _cue_set(right[:CUE_NEAR_WORDS]),
        }
        for where, cues in spans.items():
            for cue in sorted(cues):
                feats.append(f"cue_{where}_{cue}")
                feats += [f"cue_{where}_{cue}_in_{c}" for c in classes]
        feats.append(f"pos_{min(3, int(4 * m.start / max(1, len(low))))}")
        feats.append("in_range" if m.is_range else ("in_list" if len(m.levels) > 1 else "alone"))
        for lv in m.levels:
            tokens.setdefault(lv, []).extend(feats)
            counts[lv] = counts.get(lv, 0) + 1
            local.setdefault(lv, set()).update(
                c for c in sentence_cues if c.split("_")[0] in ("cavity", "direct", "sacral", "cement"))
    level_docs, technique_docs = {}, {}
    for lv, feats in tokens.items():
        region = "sacral" if lv == "sacrum" else lv[0]
        feats = feats + [f"mentions_{min(counts[lv], 6)}", f"levels_{min(n_levels, 6)}", f"region_{region}"]
        level_docs[lv] = " ".join(feats + note_summary)
        technique_docs[lv] = " ".join([note_doc, f"region_{region}"] + [f"lc_{c}" for c in sorted(local[lv])])
    return NoteFeatures(note_doc, level_docs, technique_docs)


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


HEADS = ("performed", "level", "technique", "biopsy")
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
# the model's view of one note


@dataclass
class ModelView:
    """The model's probabilities, and how far they back the rules' decisions."""

    p_performed: float
    p_level: dict[str, float] = field(default_factory=dict)  # P(treated now) for every level named
    p_technique: dict[str, dict[str, float]] = field(default_factory=dict)  # level -> class -> P
    p_biopsy: dict[str, float] = field(default_factory=dict)  # P(biopsied now) for every level named


class ConfidenceModel:
    def __init__(self, estimators: dict[str, Any], meta: dict):
        self.estimators = estimators
        self.meta = meta

    @property
    def threshold(self) -> float:
        return float(self.meta["review_threshold"])

    def view(self, text: str) -> ModelView:
        f = featurize(text)
        view = ModelView(p_performed=_positive(self.estimators["performed"], [f.note_doc])[0])
        levels = sorted(f.level_docs, key=LEVEL_ORDER.index)
        if levels:
            p = _positive(self.estimators["level"], [f.level_docs[lv] for lv in levels])
            view.p_level = dict(zip(levels, p))
            p = _positive(self.estimators["biopsy"], [f.level_docs[lv] for lv in levels])
            view.p_biopsy = dict(zip(levels, p))
            tech = self.estimators["technique"]
            probs = tech.predict_proba([f.technique_docs[lv] for lv in levels])
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


def load_model(model_dir: Path | None = None) -> ConfidenceModel:
    """Load and verify the model. Raises FileNotFoundError when absent, ModelError when refused."""

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
    return ConfidenceModel(_load_skops_checked(path), meta)


def _load_skops_checked(path: Path) -> dict[str, Any]:
    """The estimators of a skops file, after refusing any type outside the explicit allow-list."""
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    untrusted = audit_types(path)
    if untrusted:
        raise UntrustedModelError(f"{path.name} holds types outside the trusted list, refused: {untrusted}")
    try:
        estimators = sio.load(path, trusted=list(TRUSTED_TYPES))
    except UntrustedTypesFoundException as exc:
        raise UntrustedModelError(f"{path.name} could not be loaded with the trusted types only ({exc})") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, ImportError, zipfile.BadZipFile) as exc:
        raise ModelIntegrityError(f"{path.name} could not be loaded ({type(exc).__name__})") from None
    if not isinstance(estimators, dict) or set(estimators) != set(HEADS):
        raise ModelError(f"{path.name} does not hold the expected estimators")
    return estimators


class LinearHead:
    """TF-IDF (token_pattern \\S+, sublinear tf, l2) + logistic regression from plain numbers: the
    same probabilities as the scikit-learn pipeline, with the `predict_proba`/`classes_` it offers."""

    def __init__(self, spec: dict):
        self.vocabulary: dict[str, int] = spec["vocabulary"]
        self.idf: list[float] = spec["idf"]
        self.coef: list[list[float]] = spec["coef"]
        self.intercept: list[float] = spec["intercept"]
        self.classes_ = spec["classes"]

    def _features(self, doc: str) -> tuple[list[int], list[float]]:
        """The doc's l2-normalised tf-idf vector as parallel lists (columns, values) in the order of the
        tokens' first occurrence. Counter keeps that order, so every sum below adds the same numbers in
        the same order as the dict-based code this replaced: bit-identical probabilities."""
        get = self.vocabulary.get
        idf = self.idf
        keys: list[int] = []
        values: list[float] = []
        for token, n in _token_counts(doc).items():
            j = get(token)
            if j is not None:
                keys.append(j)
                values.append((_SUBLINEAR[n] if n < len(_SUBLINEAR) else 1.0 + math.log(n)) * idf[j])
        norm = math.sqrt(sum(map(mul, values, values)))
        if norm:
            values = [v / norm for v in values]
        return keys, values

    def predict_proba(self, docs: list[str]) -> list[list[float]]:
        out = []
        for doc in docs:
            keys, values = self._features(doc)
            # sum(map(mul, ...)) adds left to right from 0, like a generator expression
            scores = [b + sum(map(mul, map(row.__getitem__, keys), values)) for row, b in zip(self.coef, self.intercept)]
            if len(scores) == 1:  # binary: one row of coefficients for the second class
                p = 1.0 / (1.0 + math.exp(-scores[0]))
                out.append([1.0 - p, p])
            else:
                top = max(scores)
                exps = [math.exp(x - top) for x in scores]
                total = sum(exps)
                out.append([e / total for e in exps])
        return out


@functools.lru_cache(maxsize=64)  # the level and biopsy heads read the same rows
def _token_counts(doc: str) -> Counter:
    # str.split() and re's \S+ split on the same (Unicode) whitespace
    return Counter(doc.split())


_SUBLINEAR = [0.0] + [1.0 + math.log(n) for n in range(1, 64)]  # sublinear tf, 1 + log(n), for small n


def export_runtime(estimators: dict[str, Any]) -> dict:
    """The heads as plain numbers (see LinearHead)."""
    out = {}
    for head, pipe in estimators.items():
        vec, clf = pipe.named_steps["features"], pipe.named_steps["clf"]
        out[head] = {
            "vocabulary": {str(k): int(v) for k, v in vec.vocabulary_.items()},
            "idf": [float(x) for x in vec.idf_],
            "coef": [[float(x) for x in row] for row in clf.coef_],
            "intercept": [float(x) for x in clf.intercept_],
            "classes": [c.item() if hasattr(c, "item") else c for c in clf.classes_],
        }
    return out


def load_runtime(model_dir: Path) -> ConfidenceModel:
    """The model from RUNTIME_FILE when both files match the SHA-256s of the sidecar (no sklearn import)."""
    meta = json.loads((model_dir / META_FILE).read_text(encoding="utf-8"))
    if meta.get("feature_version") != FEATURE_VERSION:
        raise ModelError("feature version mismatch")
    if sha256_of(model_dir / MODEL_FILE) != meta["sha256"]:
        raise ModelIntegrityError(f"{MODEL_FILE} does not match the SHA-256 recorded in {META_FILE}")
    runtime = model_dir / meta["runtime_file"]
    if sha256_of(runtime) != meta["runtime_sha256"]:
        raise ModelIntegrityError(f"{runtime.name} does not match the SHA-256 recorded in {META_FILE}")
    specs = json.loads(runtime.read_text(encoding="utf-8"))
    if set(specs) != set(HEADS):
        raise ModelError(f"{runtime.name} does not hold the expected heads")
    return ConfidenceModel({head: LinearHead(specs[head]) for head in HEADS}, meta)


def audit_types(path: Path) -> list[str]:
    """Every type (and skops loader) in the file that is not on the explicit allow-list, before loading.

    Reads the archive's schema itself, so the check does not depend on which types skops trusts by
    default, and asks skops too (`get_untrusted_types`).
    """
    import skops.io as sio

    try:
        with zipfile.ZipFile(path) as z:
            schema = json.loads(z.read("schema.json"))
        skops_view = set(sio.get_untrusted_types(file=path))
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:  # not a skops archive at all
        raise ModelIntegrityError(f"{path.name} is not a readable skops file ({type(exc).__name__})") from None
    found: set[str] = set(skops_view)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "__class__" in node and "__module__" in node:
                found.add(f"{node['__module__']}.{node['__class__']}")
                loader = node.get("__loader__")
                if loader not in TRUSTED_LOADERS:
                    found.add(f"loader:{loader}")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return sorted(t for t in found if t not in TRUSTED_TYPES)


def default_model_dir() -> Path:
    return Path(os.environ.get(MODEL_DIR_ENV) or DEFAULT_MODEL_DIR)


_CACHE: dict[str, tuple[ConfidenceModel | None, str | None]] = {}
_LOCK = threading.Lock()


def get_model() -> tuple[ConfidenceModel | None, str | None]:
    """(model, problem): the process-wide model, loaded on first use; problem says why it is None."""
    key = str(default_model_dir())
    with _LOCK:
        if key not in _CACHE:
            try:
                try:
                    _CACHE[key] = (load_runtime(Path(key)), None)
                except (OSError, ValueError, KeyError, TypeError, ModelError):
                    _CACHE[key] = (load_model(Path(key)), None)  # full check of the skops file
            except FileNotFoundError:
                _CACHE[key] = (None, "confidence model not found; rule-based confidence only")
                logging.getLogger(__name__).warning("confidence model not found in %s; rule-based confidence "
                                                    "only (every note goes to review)", key)
            except ModelError as exc:
                _CACHE[key] = (None, (f"confidence model refused ({type(exc).__name__}: {exc}); "
                                     "rule-based confidence only"))
                logging.getLogger(__name__).error("%s", _CACHE[key][1])
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


def _rule_outputs(notes: list[GoldNote]):
    from .api import Extractor

    extractor = Extractor()
    results = list(extractor.pipe([(n.note_id, n.text) for n in notes]))
    return results


def _codes_right(result, gold: dict) -> bool:
    from .gold import codes_as_pairs as code_pairs

    rec = result.to_dict()
    return "error" not in rec and code_pairs(rec["codes"]) == code_pairs(gold.get("codes", []))


def simulated_errors(result, view: ModelView, meta: dict, text: str) -> list[tuple[float, bool]]:
    """(confidence, sent to review whatever the threshold) the note would get if the rules had made one
    decision wrong, everything else equal.

    Flips, one at a time: anything performed; each level named (treated <-> not treated); the
    technique of each treated body (vertebroplasty <-> augmentation); each untreated level named
    (biopsied <-> not biopsied).
    """
    import copy

    from .coding import assign_codes
    from .confidence import assess
    from .facts import BiopsyLevel, LevelFacts

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
        a = assess(wrong, assign_codes(wrong, "current"), text, view, meta)
        out.append((a.confidence, bool(a.forced or a.disagreements)))
    return out


COMBINATION_GRID = {"prior_accuracy": (0.9, 0.95, 0.98), "model_weight": (0.5, 0.75, 1.0, 1.5)}


def _threshold_for(notes: list[GoldNote], results, views: list[ModelView], meta: dict):
    """Out-of-fold confidences of the train notes and of their simulated errors -> threshold."""
    from .confidence import assess

    rows, simulated = [], []
    for n, r, v in zip(notes, results, views):
        if r.error:
            continue
        a = assess(r.facts, r.coding, n.text, v, meta)
        row = {"confidence": a.confidence, "forced": bool(a.forced), "disagree": bool(a.disagreements),
               "right": _codes_right(r, n.gold)}
        rows.append(row)
        if row["right"] and not row["forced"]:
            simulated += simulated_errors(r, v, meta, n.text)
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


def _canonical_skops(path: Path) -> None:
    """Rewrite a skops archive so that the same model always gives the same bytes.

    skops names array files and memo ids after Python object ids and stamps the zip entries with the
    current time; both are renumbered in order of appearance and the time is fixed. The content and
    the structure are unchanged (the result is loaded and checked by the caller).
    """
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


def train(train_dir: Path, out_dir: Path, test_dir: Path | None = None, seed: int = 0,
          write_card: bool = True, evaluate_rules: bool = True, grid: dict | None = None,
          say=lambda msg: None) -> dict:
    """Train the four heads on `train_dir`, choose the review threshold out-of-fold, write the model.

    Deterministic: fixed folds and seeds, sorted inputs; the model file is byte-for-byte reproducible.
    `evaluate_rules=False` skips running the rule extractor (threshold = DEFAULT_THRESHOLD) and `grid`
    replaces GRID (head -> list of {"C": ...}): both for fast tests.
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
    if evaluate_rules:
        results = _rule_outputs(notes)
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
        from .confidence import DEFAULT_THRESHOLD, PRIOR_ACCURACY

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
        summary["test"] = evaluate_split(model, read_corpus(Path(test_dir)), run_rules=evaluate_rules)
    if write_card:
        (out_dir / "MODEL_CARD.md").write_text(model_card(model.meta, summary, len(notes), data, test_dir),
                                               encoding="utf-8")
    return summary


def save_meta_after_check(path: Path, meta: dict) -> None:

    untrusted = audit_types(path)
    if untrusted:  # a new scikit-learn may add types: fail at training, not at the first extraction
        path.unlink()
        raise UntrustedModelError(f"the trained model holds types outside TRUSTED_TYPES: {untrusted}")
    meta = dict(meta, model_file=MODEL_FILE, sha256=sha256_of(path), feature_version=FEATURE_VERSION)
    estimators = _load_skops_checked(path)
    runtime = path.parent / RUNTIME_FILE
    runtime.write_text(json.dumps(export_runtime(estimators), sort_keys=True) + "\n", encoding="utf-8")
    meta["runtime_file"], meta["runtime_sha256"] = RUNTIME_FILE, sha256_of(runtime)
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
        auto = [r for r in rows if not r["forced"] and not r["disagree"] and r["confidence"] >= threshold]
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
    rows, simulated = [], []
    if run_rules:
        from .confidence import assess

        for n, r in zip(notes, _rule_outputs(notes)):
            if r.error:
                rows.append({"confidence": 0.0, "forced": True, "disagree": False, "right": False})
                continue
            view = model.view(n.text)
            a = assess(r.facts, r.coding, n.text, view, model.meta)
            rows.append({"confidence": a.confidence, "forced": bool(a.forced), "disagree": bool(a.disagreements),
                         "right": _codes_right(r, n.gold)})
            if rows[-1]["right"] and not a.forced:
                simulated += simulated_errors(r, view, model.meta, n.text)
    out = _split_metrics(data, probs, rows, model.threshold)
    if simulated:
        out["simulated_errors"] = len(simulated)
        out["simulated_caught"] = round(
            sum(always or c < model.threshold for c, always in simulated) / len(simulated), 3)
    out["level_finder_missed"] = missed
    return out


def _table(rows: list[dict], columns: list[str]) -> list[str]:
    if not rows:
        return ["(no rows)"]
    out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    out += ["| " + " | ".join(str(r.get(c, "")) for c in columns) + " |" for r in rows]
    return out


def model_card(meta: dict, summary: dict, n_train: int, data: dict, test_dir) -> str:
    """MODEL_CARD.md: data, features, versions, date, metrics on the test split, reliability tables."""
    tr, te = summary["train"], summary.get("test")
    counts = {h: len(data[h].labels) for h in HEADS}
    tech = {c: data["technique"].labels.count(c) for c in sorted(set(data["technique"].labels))}
    sel = summary["threshold_selection"]
    lines = [
        "# Model card: spinecode confidence model",
        "",
        "Generated by `spinecode train` (extractor/model.py); do not edit by hand, retrain instead.",
        "",
        "## What it is for",
        "",
        "A second opinion for `confidence` and `review` (extractor/confidence.py). It reads the note text",
        "on its own (it never sees the rule extractor's facts) and answers four questions the codes rest on.",
        "The extractor compares the answers with the rules' facts: `review=false` needs no serious rule",
        "concern, no model disagreement AND a combined confidence at or above the review threshold.",
        "It does not produce codes.",
        "",
        "| head | rows | question |",
        "|---|---|---|",
        f"| performed | {counts['performed']} notes | was any body (or the sacrum) treated in this session? |",
        f"| level | {counts['level']} levels | is this level, named in the note, treated in this session? |",
        f"| technique | {counts['technique']} treated levels | vertebroplasty, augmentation or sacroplasty? |",
        f"| biopsy | {counts['biopsy']} levels | was this level biopsied in this session? |",
        "",
        "## Data",
        "",
        f"- Training: the train split only ({n_train} gold notes, `corpora/train`): {sum(data['performed'].labels)}"
        f" with a treatment, {n_train - sum(data['performed'].labels)} without; treated levels by technique: "
        + ", ".join(f"{k} {v}" for k, v in tech.items()) + f"; {sum(data['biopsy'].labels)} biopsied levels.",
        (f"- Levels the model's level finder missed among the gold-treated levels of train: "
        f"{summary['level_finder_missed_train']}."),
        (f"- Test metrics below: `{Path(test_dir).as_posix() if test_dir else 'none'}` (never used for training or"
        " for any choice). The shared devset is never used here."),
        "- No note text is stored in the model card, the sidecar or the logs.",
        "",
        "## Features",
        "",
        "Text only, after the extractor's one-for-one normalisation, lower-cased:",
        "- a level finder (T12, T-12, 'tea twelve', 'twelfth thoracic', T11-L1 ranges, sacrum, dens);",
        "- for each level: the 4 words on each side, the section heading and its class (procedure, history,",
        "  plan, impression, addendum), cue classes in its sentence and within 8 words before/after (cavity,",
        "  direct injection, cement, injection, access, abort, plan, history, visit, finding, biopsy, ...,",
        "  each marked when a negation is near), position, range/list, number of mentions and of levels;",
        "- for the note: every cue word as class, class+stem and class-within-section tokens.",
        "TF-IDF over these tokens (min_df=2) then logistic regression (lbfgs), one per head.",
        "",
        "## Training",
        "",
        f"- Folds: 5, stratified by the note's technique class, seed {meta.get('seed')}; rows follow their note.",
        "- Hyper-parameter C per head: the best out-of-fold log-loss on train.",
        "",
    ]
    lines += _table([{"head": h, **meta["hyperparameters"][h],
                      "cv log-loss": min(r["log_loss"] for r in summary["cv_log_loss"][h])} for h in HEADS],
                     ["head", "C", "cv log-loss"])
    lines += [
        "",
        "## Combination and review threshold",
        "",
        "Each decision the codes rest on is one factor: a prior belief that the rules are right, lowered by",
        "rule signals on that decision (an aborted level, a level named only in a range), times the model's",
        "likelihood ratio (its probability for the rules' answer against the train base rate, raised to the",
        "model weight). confidence = product of the factors x (1 - weight) of note-level concerns (advisories",
        "such as out-of-scope procedures or more than 3 levels, side or filler not stated). Concerns that",
        "question the codes (conflicting mentions of a level, needles without filler, an unknown code-mapper",
        "review reason, sacroplasty approach not stated, ...) force review whatever the confidence, and so",
        "does a disagreement: the model prefers another answer and its evidence cuts the rules' odds at least",
        "four-fold (reported in `warnings`).",
        "",
        "The prior, the model weight and the threshold are chosen on train, out-of-fold: every real rule error",
        "on train must fall below the threshold; then Youden's J between the simulated one-decision rule",
        "errors sent to review and the right notes without a forcing rule concern sent to review is maximised.",
        "",
        (f"- chosen: prior {meta.get('prior_accuracy')}, model weight {meta.get('model_weight')}, "
        f"review threshold **{meta['review_threshold']}**"),
        (f"- out-of-fold on train: {sel.get('simulated_caught')} of {sel.get('simulated_errors')} simulated errors "
        f"sent to review; {sel.get('right_free_sent_to_review')} of {sel.get('right_notes_free')} right, unflagged "
        f"notes sent to review; real rule errors on train: {sel.get('real_rule_errors')}"),
        "",
    ]
    lines += _table(sel.get("grid", []), ["prior_accuracy", "model_weight", "youden_j", "threshold"])
    lines += ["", "## Metrics", ""]
    rows = [{"split": "train (out-of-fold)", "head": h, "accuracy": tr[h]["accuracy"], "log-loss": tr[h]["log_loss"]}
            for h in HEADS]
    if te:
        rows += [{"split": "test", "head": h, "accuracy": te[h]["accuracy"], "log-loss": te[h]["log_loss"]}
                 for h in HEADS]
    lines += _table(rows, ["split", "head", "accuracy", "log-loss"])
    lines.append("")
    for name, m in (("train (out-of-fold)", tr), ("test", te)):
        if m and "notes" in m:
            lines.append(f"- {name}: codes exactly right {m['codes_right']}/{m['notes']}; automation rate "
                         f"(review=false) {m['automated']}/{m['notes']} ({m['automated'] / m['notes']:.1%}); exact "
                         f"among them {m['automated_right']}/{m['automated']}")
    if te and te.get("simulated_errors"):
        lines.append(f"- test, one-decision rule errors injected into the right notes (a treated level dropped or "
                     f"added, a technique swapped, a biopsy-only level added or dropped, nothing performed): "
                     f"{te['simulated_caught']:.1%} of {te['simulated_errors']} sent to review")
    lines += ["", "These depend on the rule extractor at training time; `spinecode evaluate` gives the current ones.",
              "", "## Reliability (calibration)", "",
              "Predicted probability (one-vs-rest over every row and class) against the observed frequency.", ""]
    for name, m in (("train, out-of-fold", tr), ("test", te)):
        if not m:
            continue
        for h in HEADS:
            lines += [f"### {h} head, {name}", ""]
            lines += _table(m[h]["reliability"], ["bin", "n", "mean_predicted", "observed"])
            lines.append("")
        if m.get("confidence_reliability"):
            lines += [f"### confidence vs codes exactly right, {name}", ""]
            lines += _table(m["confidence_reliability"], ["bin", "n", "mean_predicted", "observed"])
            lines.append("")
    lines += [
        "`confidence` is a ranking score for routing, built from calibrated parts; it is not itself a",
        "calibrated probability of exactness (the train split has no rule errors to fit one on).",
        "",
        "## Versions and provenance",
        "",
        f"- trained on {meta.get('trained_on')}, seed {meta.get('seed')}, feature version {meta.get('feature_version')}",
        "- " + ", ".join(f"{k} {v}" for k, v in sorted(meta.get("versions", {}).items())),
        f"- model file `{MODEL_FILE}`, SHA-256 `{meta.get('sha256')}` (also in `{META_FILE}`, checked before loading)",
        "",
        "## Safety",
        "",
        "- Written with skops; loaded with `skops.io.load(trusted=TRUSTED_TYPES)` after `get_untrusted_types`",
        "  finds nothing outside that explicit list. Never pickle/joblib.",
        f"- The SHA-256 in `{META_FILE}` is compared with the file before anything is read: a modified file is",
        "  refused (`ModelIntegrityError`), so are unexpected types (`UntrustedModelError`).",
        "- Without the model (absent or refused) the extractor still works, with a warning on every record,",
        "  a rule-only confidence and review=true.",
        "",
        "## Limitations",
        "",
        "- ~60 training notes: the heads are weak on rare situations (aborted levels, cancelled sessions,",
        "  addendum corrections); there they disagree with right rule answers and send the note to review.",
        "- The model checks the decisions that change codes (treated levels, technique, biopsy-only levels,",
        "  anything performed), not the other fields (approach, side, cement, volume).",
        "- The threshold depends on the rule extractor's output on train; retrain after large rule changes.",
        "",
    ]
    return "\n".join(lines)
