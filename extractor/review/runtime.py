"""The confidence model at extraction time: the four heads' probabilities for one note (`ModelView`).

Inference runs on the plain-JSON copy of the heads (`LinearHead`, no scikit-learn import), checked
against the sidecar's SHA-256s; when that copy cannot be used, the skops model is loaded with the full
checks of store.py. The model is loaded once per process (`get_model`).
"""

from __future__ import annotations

import functools
import logging
import math
import os
import threading
from collections import Counter
from dataclasses import dataclass, field
from operator import mul
from pathlib import Path
from typing import Any

from ..facts import LEVEL_ORDER
from .features import featurize
from .store import HEADS, ModelError, read_runtime_specs, read_skops_model

MODEL_DIR_ENV = "SPINECODE_MODEL_DIR"


def _default_model_dir() -> Path:
    # a source tree has models/ beside extractor/; an installed wheel has it as package data extractor.models
    source = Path(__file__).resolve().parents[2] / "models"
    if (source / "confidence.json").is_file():
        return source
    from importlib.resources import files

    return Path(str(files("extractor.models")))


DEFAULT_MODEL_DIR = _default_model_dir()


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

    def view(self, text: str, normalized: str | None = None) -> ModelView:
        """normalized: `text.normalize(text)`, when the caller has it."""
        f = featurize(text, normalized)
        view = ModelView(p_performed=_positive(self.estimators["performed"], [f.note_doc])[0])
        levels = sorted(f.level_docs, key=LEVEL_ORDER.index)
        if levels:
            rows = [f.level_docs[lv] for lv in levels]
            level, biopsy = self.estimators["level"], self.estimators["biopsy"]
            if isinstance(level, LinearHead) and level.shares_features(biopsy):  # weigh the rows once for both
                features = [level.features(doc) for doc in rows]
                view.p_level = dict(zip(levels, _positive_of(level, level.proba_of_features(features))))
                view.p_biopsy = dict(zip(levels, _positive_of(biopsy, biopsy.proba_of_features(features))))
            else:
                view.p_level = dict(zip(levels, _positive(level, rows)))
                view.p_biopsy = dict(zip(levels, _positive(biopsy, rows)))
            tech = self.estimators["technique"]
            docs = [f.technique_docs[lv] for lv in levels]
            if isinstance(tech, LinearHead):  # every technique row starts with the note's row: read it once
                probs = tech.predict_proba(docs, prefix=f.note_doc)
            else:
                probs = tech.predict_proba(docs)
            classes = [str(c) for c in tech.classes_]
            view.p_technique = {lv: {c: float(x) for c, x in zip(classes, row)} for lv, row in zip(levels, probs)}
        return view


def _positive(estimator, docs: list[str]) -> list[float]:
    return _positive_of(estimator, estimator.predict_proba(docs))


def _positive_of(estimator, probs: list[list[float]]) -> list[float]:
    k = list(estimator.classes_).index(1)
    return [float(row[k]) for row in probs]


class LinearHead:
    """TF-IDF (token_pattern \\S+, sublinear tf, l2) + logistic regression from plain numbers: the
    same probabilities as the scikit-learn pipeline, with the `predict_proba`/`classes_` it offers."""

    def __init__(self, spec: dict):
        self.vocabulary: dict[str, int] = spec["vocabulary"]
        self.idf: list[float] = spec["idf"]
        self.coef: list[list[float]] = spec["coef"]
        self.intercept: list[float] = spec["intercept"]
        self.classes_ = spec["classes"]
        self._prefix_cache: tuple[str, tuple] | None = None  # the last prefix's weights (one note's rows share it)

    def _weights(self, counts: Counter) -> tuple[list[int], list[float], dict[str, int]]:
        """(columns, tf-idf weights, token -> its place in those lists) of the counted tokens in the vocabulary,
        in the order of the tokens' first occurrence."""
        get = self.vocabulary.get
        idf = self.idf
        small, top = _SUBLINEAR, len(_SUBLINEAR)  # _sublinear inlined: this loop runs for every token
        keys: list[int] = []
        values: list[float] = []
        place: dict[str, int] = {}
        for token, n in counts.items():
            j = get(token)
            if j is not None:
                place[token] = len(keys)
                keys.append(j)
                values.append((small[n] if n < top else 1.0 + math.log(n)) * idf[j])
        return keys, values, place

    def _features(self, doc: str, prefix: str | None = None) -> tuple[list[int], list[float]]:
        """The doc's l2-normalised tf-idf vector as parallel lists (columns, values) in the order of the
        tokens' first occurrence. Counter keeps that order, so every sum below adds the same numbers in
        the same order as the dict-based code this replaced: bit-identical probabilities. prefix: the
        doc's first tokens, when several docs share them (weighed once, then the rest's counts added)."""
        if prefix is None or not doc.startswith(prefix) or doc[len(prefix) : len(prefix) + 1] not in ("", " "):
            keys, values, _ = self._weights(_token_counts(doc))
        else:
            prefix_counts = _token_counts(prefix)
            keys, values, place = self._prefix_weights(prefix)
            keys, values = list(keys), list(values)
            get, idf = self.vocabulary.get, self.idf
            for token, n in Counter(doc[len(prefix) :].split()).items():
                seen = prefix_counts.get(token)
                if seen is not None:  # the token's count grows; its place stays where it first occurred
                    k = place.get(token)
                    if k is not None:
                        values[k] = _sublinear(seen + n) * idf[keys[k]]
                else:
                    j = get(token)
                    if j is not None:
                        keys.append(j)
                        values.append(_sublinear(n) * idf[j])
        norm = math.sqrt(sum(map(mul, values, values)))
        if norm:
            values = [v / norm for v in values]
        return keys, values

    def _prefix_weights(self, prefix: str) -> tuple[list[int], list[float], dict[str, int]]:
        cached = self._prefix_cache
        if cached is None or cached[0] is not prefix:
            cached = self._prefix_cache = (prefix, self._weights(_token_counts(prefix)))
        return cached[1]

    def shares_features(self, other: object) -> bool:
        """Whether `other` weighs a doc exactly as this head does (the same vocabulary and idf objects,
        as `load_runtime` shares them between heads fitted on the same rows)."""
        return isinstance(other, LinearHead) and other.vocabulary is self.vocabulary and other.idf is self.idf

    def features(self, doc: str) -> tuple[list[int], list[float]]:
        """The doc's tf-idf vector (columns, values), for `proba_of_features` of every head sharing it."""
        return self._features(doc)

    def predict_proba(self, docs: list[str], prefix: str | None = None) -> list[list[float]]:
        """prefix: what every doc starts with (then followed by a space), if they share it: the same
        probabilities, computed faster."""
        return self.proba_of_features([self._features(doc, prefix) for doc in docs])

    def proba_of_features(self, features: list[tuple[list[int], list[float]]]) -> list[list[float]]:
        out = []
        for keys, values in features:
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


def _sublinear(n: int) -> float:
    return _SUBLINEAR[n] if n < len(_SUBLINEAR) else 1.0 + math.log(n)


# ------------------------------------------------------------------------------------------------
# loading, once per process


def load_model(model_dir: Path | None = None) -> ConfidenceModel:
    """The skops model, verified. Raises FileNotFoundError when absent, ModelError when refused."""
    return ConfidenceModel(*read_skops_model(Path(model_dir) if model_dir is not None else default_model_dir()))


def load_runtime(model_dir: Path) -> ConfidenceModel:
    """The model from the plain-JSON runtime file, verified against the sidecar (no scikit-learn import)."""
    specs, meta = read_runtime_specs(model_dir)
    heads: dict[str, LinearHead] = {}
    for head in HEADS:
        spec = dict(specs[head])
        for other in heads.values():  # heads fitted on the same rows share one vectoriser: weigh a row once
            if other.vocabulary == spec["vocabulary"] and other.idf == spec["idf"]:
                spec["vocabulary"], spec["idf"] = other.vocabulary, other.idf
                break
        heads[head] = LinearHead(spec)
    return ConfidenceModel(heads, meta)


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
