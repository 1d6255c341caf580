"""Safe storage of the confidence model: skops and plain JSON only, never pickle/joblib for loading.

The model is written with skops in a canonical byte layout (same training -> same file), with a JSON
sidecar (META_FILE) holding its SHA-256, the feature version, the threshold and the library versions,
and a plain-JSON copy of the linear heads (RUNTIME_FILE) for inference without scikit-learn. Reading
checks the hash first (`ModelIntegrityError`), then refuses any type outside the explicit
`TRUSTED_TYPES` (`UntrustedModelError`). Nothing here prints or logs note text.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path
from typing import Any

from .features import FEATURE_VERSION

MODEL_FILE = "confidence.skops"
META_FILE = "confidence.json"
# The same linear heads as plain JSON numbers, for inference without importing scikit-learn and skops
# (≈ 5 s of imports per process). Written at training from the audited skops model; its SHA-256 is in
# META_FILE. Plain JSON holds no code, so loading it cannot execute anything.
RUNTIME_FILE = "confidence.runtime.json"
HEADS = ("performed", "level", "technique", "biopsy")  # the estimators a model file holds

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


class ModelError(RuntimeError):
    """The confidence model could not be used."""


class ModelIntegrityError(ModelError):
    """The model file does not match the SHA-256 recorded in its sidecar (tampered or replaced)."""


class UntrustedModelError(ModelError):
    """The model file holds types outside the explicit trusted list; it is not loaded."""


# ------------------------------------------------------------------------------------------------
# reading


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def read_skops_model(model_dir: Path) -> tuple[dict[str, Any], dict]:
    """(estimators, sidecar) of the skops model, verified: FileNotFoundError when absent, ModelError when
    refused (hash, feature version, types)."""
    model_dir = Path(model_dir)
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
    return _load_skops_checked(path), meta


def read_runtime_specs(model_dir: Path) -> tuple[dict[str, dict], dict]:
    """(head -> plain numbers, sidecar) of RUNTIME_FILE when both files match the SHA-256s of the sidecar
    (no scikit-learn import)."""
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
    return specs, meta


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


# ------------------------------------------------------------------------------------------------
# writing


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
