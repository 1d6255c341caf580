"""Inputs of `spinecode batch`: a folder of text files, a CSV/TSV, JSONL (a file or stdin) or Parquet table.

Every source yields `SourceNote`s in a deterministic order (a folder: sorted relative paths; a table:
row order). A note that cannot be read is still yielded, with `error=(type, message)`, so that the batch
writes one error record for it and goes on. Messages name the problem, never the note text.

A problem with the input as a whole (missing file, a column not in the table, a CSV that stops parsing)
raises `InputError`, which the batch reports as a usage error (exit code 2).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from .text import NoteDecodeError, decode_note

DEFAULT_MAX_BYTES = 5_000_000
DEFAULT_GLOB = "*.txt"

TABLE_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}

# Control characters other than the usual whitespace (tab, newlines, form feed): a text note has
# (almost) none; random bytes decoded through the latin-1 fallback have many.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_CONTROL_LIMIT = 0.05
_SURROGATE = re.compile("[\ud800-\udfff]")


class InputError(Exception):
    """The input as a whole cannot be read: a usage error (exit code 2)."""


@dataclass
class SourceNote:
    """One note to extract, or the reason it cannot be (error = (type, message))."""

    note_id: str | None
    text: str | None = None
    date_of_service: str | None = None
    error: tuple[str, str] | None = None
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- single values


def note_from_bytes(note_id: str | None, data: bytes, max_bytes: int,
                    date_of_service: str | None = None) -> SourceNote:
    """Decode note bytes (UTF-8, UTF-8 with BOM, cp1252/latin-1 fallback with a warning) and check them."""
    if len(data) > max_bytes:
        return SourceNote(note_id, error=("NoteTooLarge", f"note has {len(data)} bytes; the limit is {max_bytes}"))
    try:
        text, warnings = decode_note(data)
    except NoteDecodeError as exc:  # its message never holds note text
        return SourceNote(note_id, error=("UndecodableNote", str(exc)))
    return note_from_text(note_id, text, max_bytes, date_of_service, warnings, size_checked=True)


def note_from_text(note_id: str | None, text: str, max_bytes: int, date_of_service: str | None = None,
                   warnings: list[str] | None = None, size_checked: bool = False) -> SourceNote:
    """Check a decoded note: size, binary-looking content, invalid surrogates (replaced one for one)."""
    warnings = list(warnings or [])
    if _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)  # same length: offsets stay valid
        warnings.append("note text held invalid Unicode (lone surrogates); replaced with U+FFFD")
    if not size_checked:
        size = len(text.encode("utf-8"))
        if size > max_bytes:
            return SourceNote(note_id, error=("NoteTooLarge", f"note has {size} bytes; the limit is {max_bytes}"))
    if text and len(_CONTROL.findall(text)) > _CONTROL_LIMIT * len(text):
        return SourceNote(note_id, error=("UndecodableNote", "content does not look like text (control characters)"))
    return SourceNote(note_id, text, date_of_service, warnings=warnings)


def clean_id(value) -> str | None:
    """A note id from a table cell: str (ints and integral floats without '.0'); None when missing."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            value = int(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    value = value if isinstance(value, str) else str(value)
    if not value.strip():
        return None
    return _SURROGATE.sub("\ufffd", value)


def clean_date(value) -> tuple[str | None, bool]:
    """(ISO date or None, ok). Accepts None/empty, a date, a datetime or an ISO string."""
    from .coding import parse_date

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, True
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str) and not value.strip():
        return None, True
    try:
        day = parse_date(value)
    except (ValueError, TypeError):
        return None, False
    return (day.isoformat() if day is not None else None), True


def note_from_fields(raw_id, raw_text, raw_date, max_bytes: int, where: str, text_col: str = "text",
                     id_col: str = "note_id", date_col: str | None = "date of service") -> SourceNote:
    """A note from the cells of one table row (CSV, JSONL, Parquet, a Spark row)."""
    note_id = clean_id(raw_id)
    if note_id is None:
        return SourceNote(None, error=("MissingNoteId", f"{where} has no value in column {id_col!r}"))
    dos, ok = clean_date(raw_date)
    if not ok:  # the value itself is not echoed: dates are patient data too
        return SourceNote(note_id, error=("InvalidDateOfService",
                                          f"{where}: column {date_col!r} is not an ISO date (YYYY-MM-DD)"))
    if raw_text is None or (isinstance(raw_text, float) and math.isnan(raw_text)):
        return SourceNote(note_id, error=("MissingText", f"{where} has no value in column {text_col!r}"))
    if isinstance(raw_text, (bytes, bytearray, memoryview)):
        return note_from_bytes(note_id, bytes(raw_text), max_bytes, dos)
    if not isinstance(raw_text, str):
        return SourceNote(note_id, error=("BadInputRecord",
                                          f"{where}: column {text_col!r} holds {type(raw_text).__name__}, not text"))
    return note_from_text(note_id, raw_text, max_bytes, dos)


# --------------------------------------------------------------------------- sources


class Source:
    """An opened input: iterate for SourceNotes; `total` is the note count when known cheaply."""

    description = "input"
    problems: list[str]

    def __init__(self) -> None:
        self.problems = []

    @property
    def total(self) -> int | None:
        return None

    def fraction_read(self) -> float | None:
        """Share of the input read so far (for an ETA when `total` is unknown), or None."""
        return None

    def __iter__(self) -> Iterator[SourceNote]:  # pragma: no cover
        raise NotImplementedError

    def close(self) -> None:
        pass


class FolderSource(Source):
    """Regular files below a folder whose names match a glob, sorted by relative path.

    Hidden files and folders (name starting with '.') are skipped. Symbolic links are followed; a
    folder reached twice (a symlink loop, or two links to one folder) is read once. A matching name
    that is not a readable regular file (fifo, socket, device, broken link, link loop) yields an
    error record. The note id is the relative path without its extension, with '/' separators.
    """

    def __init__(self, root: Path, pattern: str = DEFAULT_GLOB, max_bytes: int = DEFAULT_MAX_BYTES,
                 exclude: tuple[Path, ...] = ()):
        super().__init__()
        self.root = root
        self.pattern = pattern
        self.max_bytes = max_bytes
        self.description = f"folder {root}"
        self._exclude = {os.path.realpath(p) for p in exclude}
        self._exclude_names = {Path(p).name for p in exclude}
        self.files = self._list()

    @property
    def total(self) -> int:
        return len(self.files)

    def _matches(self, name: str, rel: str) -> bool:
        return fnmatchcase(rel if "/" in self.pattern else name, self.pattern)

    def _list(self) -> list[tuple[str, str]]:
        try:
            st = os.stat(self.root)
        except OSError as exc:
            raise InputError(f"cannot read folder {self.root} ({exc.strerror})") from None
        visited = {(st.st_dev, st.st_ino)}
        stack: list[tuple[str, str]] = [(str(self.root), "")]
        found: list[tuple[str, str]] = []
        while stack:
            folder, rel = stack.pop()
            try:
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                self.problems.append(f"cannot list folder {rel or '.'} ({exc.strerror})")
                continue
            subfolders = []
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                rel_path = rel + entry.name
                try:
                    is_dir = entry.is_dir(follow_symlinks=True)
                except OSError:  # a link loop or an unreadable link: read (and report) it as a file
                    is_dir = False
                if is_dir:
                    try:
                        est = entry.stat(follow_symlinks=True)
                    except OSError as exc:
                        self.problems.append(f"cannot list folder {rel_path} ({exc.strerror})")
                        continue
                    key = (est.st_dev, est.st_ino)
                    if key not in visited:
                        visited.add(key)
                        subfolders.append((entry.path, rel_path + "/"))
                elif self._matches(entry.name, rel_path):
                    if entry.name in self._exclude_names and os.path.realpath(entry.path) in self._exclude:
                        continue
                    found.append((rel_path, entry.path))
            stack.extend(reversed(subfolders))
        found.sort(key=lambda f: f[0])
        return found

    def __iter__(self) -> Iterator[SourceNote]:
        for rel_path, path in self.files:
            note_id = str(PurePosixPath(rel_path).with_suffix(""))
            yield read_note_file(note_id, path, self.max_bytes)


_KINDS = ((stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
          (stat.S_ISBLK, "block device"), (stat.S_ISDIR, "folder"))


def _not_regular(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    return next((name for test, name in _KINDS if test(mode)), "special file")


def read_note_file(note_id: str, path: str, max_bytes: int) -> SourceNote:
    """One note file, never blocking on a fifo, never reading more than max_bytes + 1 bytes."""
    try:
        kind = _not_regular(os.stat(path).st_mode)
        if kind:
            return SourceNote(note_id, error=("UnreadableNote", f"not a regular file ({kind})"))
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        with open(fd, "rb", closefd=True) as fh:
            st = os.fstat(fh.fileno())
            kind = _not_regular(st.st_mode)  # it may have been replaced since the stat above
            if kind:
                return SourceNote(note_id, error=("UnreadableNote", f"not a regular file ({kind})"))
            if st.st_size > max_bytes:
                return SourceNote(note_id, error=("NoteTooLarge",
                                                  f"note has {st.st_size} bytes; the limit is {max_bytes}"))
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        return SourceNote(note_id, error=("UnreadableNote", f"cannot read file ({exc.strerror or type(exc).__name__})"))
    return note_from_bytes(note_id, data, max_bytes)


class _TableSource(Source):
    def __init__(self, path: Path | None, id_col: str, text_col: str, date_col: str | None, max_bytes: int):
        super().__init__()
        self.path = path
        self.id_col, self.text_col, self.date_col = id_col, text_col, date_col
        self.max_bytes = max_bytes

    def _note(self, raw_id, raw_text, raw_date, where: str) -> SourceNote:
        return note_from_fields(raw_id, raw_text, raw_date, self.max_bytes, where, self.text_col, self.id_col,
                                self.date_col)

    def _open(self) -> BinaryIO:
        assert self.path is not None
        try:
            return open(self.path, "rb")
        except OSError as exc:
            raise InputError(f"cannot open {self.path} ({exc.strerror})") from None


class CsvSource(_TableSource):
    """A CSV (or TSV) with a header row. Cells are decoded one by one (UTF-8, else cp1252 with a warning)."""

    def __init__(self, path: Path, id_col: str, text_col: str, date_col: str | None, max_bytes: int,
                 delimiter: str = ","):
        super().__init__(path, id_col, text_col, date_col, max_bytes)
        self.description = f"table {path}"
        csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # notes are long; the size limit is ours
        self._raw = self._open()
        self._text = io.TextIOWrapper(self._raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
        self._reader = csv.reader(self._text, delimiter=delimiter)
        try:
            header = next(self._reader)
        except StopIteration:
            self.close()
            raise InputError(f"{path} is empty (no header row)") from None
        except (csv.Error, OSError) as exc:
            self.close()
            raise InputError(f"cannot read the header of {path} ({exc})") from None
        header = [h.strip() for h in header]
        self._idx = {}
        for role, name in (("id", id_col), ("text", text_col), ("date", date_col)):
            if name is None:
                continue
            if name not in header:
                self.close()
                raise InputError(f"{path} has no column {name!r} (columns: {', '.join(header)}); "
                                 f"use --{role}-col")
            self._idx[role] = header.index(name)

    def fraction_read(self) -> float | None:
        try:
            size = os.fstat(self._raw.fileno()).st_size
            return min(1.0, self._raw.tell() / size) if size else None
        except (OSError, ValueError):
            return None

    def __iter__(self) -> Iterator[SourceNote]:
        def cell(row: list[str], role: str):
            k = self._idx.get(role)
            if k is None or k >= len(row):
                return None
            return row[k]

        try:
            for row in self._reader:
                if not row or not any(c.strip() for c in row):
                    continue
                where = f"row at line {self._reader.line_num}"
                raw_text = cell(row, "text")
                data = None if raw_text is None else raw_text.encode("utf-8", "surrogateescape")
                raw_id = cell(row, "id")
                if raw_id is not None:
                    raw_id = raw_id.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                raw_date = cell(row, "date")
                yield self._note(raw_id, data, raw_date, where)
        except csv.Error as exc:
            raise InputError(f"{self.path}: CSV error at line {self._reader.line_num} ({exc})") from None
        except OSError as exc:
            raise InputError(f"cannot read {self.path} ({exc.strerror})") from None
        finally:
            self.close()

    def close(self) -> None:
        try:
            self._raw.close()
        except Exception:  # noqa: BLE001, S110 - pragma: no cover
            pass


class JsonlSource(_TableSource):
    """JSON Lines: one object per line with the id, text (and date) fields. path None: standard input."""

    def __init__(self, path: Path | None, id_col: str, text_col: str, date_col: str | None, max_bytes: int,
                 stream: BinaryIO | None = None):
        super().__init__(path, id_col, text_col, date_col, max_bytes)
        self.description = f"table {path}" if path else "standard input"
        self._fh = stream if stream is not None else self._open()

    @property
    def total(self) -> int | None:
        if self.path is None:
            return None
        try:
            count, last = 0, b"\n"
            with open(self.path, "rb") as fh:
                while block := fh.read(1 << 20):
                    count += block.count(b"\n")
                    last = block[-1:]
            return count + (last != b"\n")
        except OSError:
            return None

    def __iter__(self) -> Iterator[SourceNote]:
        lineno = 0
        try:
            for raw in self._fh:
                lineno += 1
                if not raw.strip():
                    continue
                where = f"input line {lineno}"
                warnings: list[str] = []
                try:
                    try:
                        obj = json.loads(raw)
                    except UnicodeDecodeError:
                        text, warnings = decode_note(raw)
                        obj = json.loads(text)
                except (ValueError, RecursionError):
                    yield SourceNote(None, error=("BadInputRecord", f"{where} is not valid JSON"))
                    continue
                if not isinstance(obj, dict):
                    yield SourceNote(None, error=("BadInputRecord", f"{where} is not a JSON object"))
                    continue
                note = self._note(obj.get(self.id_col), obj.get(self.text_col),
                                  obj.get(self.date_col) if self.date_col else None, where)
                note.warnings[:0] = warnings
                yield note
        except OSError as exc:
            raise InputError(f"cannot read {self.description} ({exc.strerror})") from None
        finally:
            self.close()

    def close(self) -> None:
        if self.path is not None:
            self._fh.close()


class ParquetSource(_TableSource):
    """A Parquet file, read in small record batches (never whole); needs pyarrow."""

    BATCH = 256

    def __init__(self, path: Path, id_col: str, text_col: str, date_col: str | None, max_bytes: int):
        super().__init__(path, id_col, text_col, date_col, max_bytes)
        self.description = f"table {path}"
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise InputError("reading Parquet needs pyarrow: pip install 'spinecode[parquet]'") from None
        try:
            self._file = pq.ParquetFile(str(path))
        except OSError as exc:
            raise InputError(f"cannot open {path} ({getattr(exc, 'strerror', None) or exc})") from None
        except Exception as exc:  # noqa: BLE001 - ArrowInvalid for a file that is not Parquet
            raise InputError(f"{path} is not a readable Parquet file ({type(exc).__name__})") from None
        names = self._file.schema_arrow.names
        self._cols = [c for c in (id_col, text_col, date_col) if c is not None]
        for role, name in (("id", id_col), ("text", text_col), ("date", date_col)):
            if name is not None and name not in names:
                raise InputError(f"{path} has no column {name!r} (columns: {', '.join(names)}); use --{role}-col")

    @property
    def total(self) -> int:
        return self._file.metadata.num_rows

    def __iter__(self) -> Iterator[SourceNote]:
        row = 0
        try:
            for batch in self._file.iter_batches(batch_size=self.BATCH, columns=list(dict.fromkeys(self._cols))):
                ids = batch.column(self.id_col).to_pylist()
                texts = batch.column(self.text_col).to_pylist()
                dates = batch.column(self.date_col).to_pylist() if self.date_col else [None] * len(ids)
                for raw_id, raw_text, raw_date in zip(ids, texts, dates):
                    row += 1
                    yield self._note(raw_id, raw_text, raw_date, f"row {row}")
        except Exception as exc:
            if isinstance(exc, GeneratorExit):  # pragma: no cover
                raise
            raise InputError(f"cannot read {self.path} after row {row} ({type(exc).__name__})") from None


def open_source(spec: str, *, pattern: str = DEFAULT_GLOB, id_col: str = "note_id", text_col: str = "text",
                date_col: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
                exclude: tuple[Path, ...] = (), stdin: BinaryIO | None = None) -> Source:
    """Open INPUT: '-' (JSONL on stdin), a folder, or a .csv/.tsv/.jsonl/.ndjson/.parquet/.pq file."""
    if spec == "-":
        return JsonlSource(None, id_col, text_col, date_col, max_bytes,
                           stream=stdin if stdin is not None else sys.stdin.buffer)
    path = Path(spec)
    if path.is_dir():
        return FolderSource(path, pattern, max_bytes, exclude)
    if not path.exists():
        raise InputError(f"{spec}: no such file or folder")
    kind = TABLE_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InputError(f"{spec}: not a folder and not a table (.csv, .tsv, .jsonl, .ndjson, .parquet)")
    if kind in ("csv", "tsv"):
        return CsvSource(path, id_col, text_col, date_col, max_bytes, "\t" if kind == "tsv" else ",")
    if kind == "jsonl":
        return JsonlSource(path, id_col, text_col, date_col, max_bytes)
    return ParquetSource(path, id_col, text_col, date_col, max_bytes)
