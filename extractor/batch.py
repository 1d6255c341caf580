"""Batch extraction over a folder: one JSON line per note, in a stable order, never stopping for one note."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Iterator, Optional

from .api import Extractor, error_result
from .text import NoteDecodeError, decode_note


def iter_folder(root: Path, max_bytes: int, pattern: str = "*.txt") -> Iterator[tuple[str, Optional[str], Optional[tuple[str, str]]]]:
    """(note_id, text or None, error or None) for each regular file below root, sorted by path."""
    files = sorted(p for p in root.rglob(pattern) if p.is_file() and not p.name.startswith("."))
    for path in files:
        note_id = str(path.relative_to(root).with_suffix(""))
        try:
            size = path.stat().st_size
            if size > max_bytes:
                yield note_id, None, ("NoteTooLarge", f"file has {size} bytes; the limit is {max_bytes}")
                continue
            text, _ = decode_note(path.read_bytes())
            yield note_id, text, None
        except NoteDecodeError as exc:
            yield note_id, None, ("UndecodableNote", str(exc))
        except OSError as exc:
            yield note_id, None, ("UnreadableNote", f"cannot read file ({exc.strerror or type(exc).__name__})")


def run_batch(input: str, out: Path, code_set: str = "current", workers: int = 1, resume: bool = False,
              id_col: str = "note_id", text_col: str = "text", date_col: Optional[str] = None,
              max_bytes: int = 5_000_000, quiet: bool = False) -> int:
    root = Path(input)
    if not root.is_dir():
        print(f"error: {input} is not a folder", file=sys.stderr)
        return 2
    extractor = Extractor(code_set=code_set)
    notes = list(iter_folder(root, max_bytes))
    errors = 0
    start = time.time()
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        good = [(nid, text) for nid, text, err in notes if err is None]
        results = {r.note_id: r for r in extractor.pipe(good, n_process=workers)}
        for nid, _text, err in notes:
            result = error_result(nid, *err) if err else results[nid]
            errors += result.error is not None
            fh.write(json.dumps(result.to_dict(), ensure_ascii=False, sort_keys=False) + "\n")
    os.replace(tmp, out)
    if not quiet:
        print(f"{len(notes)} notes, {errors} errors, {time.time() - start:.1f}s → {out}", file=sys.stderr)
    return 1 if errors else 0
