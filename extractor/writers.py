"""Outputs of `spinecode batch`: JSONL (streamed, resumable), CSV and Parquet (written atomically).

JSONL is written straight to OUT, one record per line, flushed after every chunk of notes and fsynced
every few seconds, so a crash loses at most the notes in flight; `scan_jsonl` reads such a file back
for `--resume` and cuts a torn last line. CSV and Parquet are streamed into a hidden temporary file
beside OUT and moved over OUT (os.replace) only when the batch ends, so OUT is either the old file or
the complete new one.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

FORMATS = ("jsonl", "csv", "parquet")
SUFFIX_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
SYNC_SECONDS = 2.0


class OutputError(Exception):
    """OUT cannot be written (or read back for --resume): exit code 2."""


def format_for(out: str, explicit: str | None = None) -> str:
    """The output format: explicit, else by OUT's extension (.csv, .parquet/.pq), else jsonl."""
    if explicit:
        if explicit not in FORMATS:
            raise ValueError(f"--format must be one of {', '.join(FORMATS)}, not {explicit!r}")
        return explicit
    return SUFFIX_FORMATS.get(Path(out).suffix.lower(), "jsonl")


def json_line(record: dict) -> bytes:
    """One JSONL line (UTF-8). Text that cannot be encoded (lone surrogates) is written escaped."""
    try:
        return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(record, ensure_ascii=True) + "\n").encode("ascii")


def format_code(code: dict) -> str:
    """A code of a record as `22514x1`, with its modifiers: `22511x1-59`."""
    text = f"{code['code']}x{code['units']}"
    if code.get("modifiers"):
        text += "-" + "-".join(code["modifiers"])
    return text


@dataclass(frozen=True)
class FlatRecord:
    """The flattened view of a record: the CSV columns, and Spark's flat columns.

    The columns after `error` are what a coder needs beside the codes: why a note is in review
    (warnings, queries), which code set and date were used, and the rest of the claim. They are empty
    for an error record. Columns are only ever added at the end.
    """

    note_id: str | None
    levels: list[str]  # the treated levels, head to tail
    techniques: list[str]  # each technique once, in order of first use
    codes: list[str]  # format_code of each code
    review: bool | None  # None for an error record
    confidence: float | None  # None for an error record
    error: str | None  # "Type: message" for an error record
    code_set: str | None = None  # the set used: current | legacy (--code-set auto resolved)
    date_of_service: str | None = None  # ISO date, and where it came from: "2013-05-02 (note)"
    additional_codes: list[str] = field(default_factory=list)  # format_code: sedation, ablation, ...
    pcs_codes: list[str] = field(default_factory=list)  # ICD-10-PCS "0QU03JZ (L1)"
    biopsy_only_levels: list[str] = field(default_factory=list)
    not_treated: list[str] = field(default_factory=list)  # "L4 (historical)"
    other_procedures: list[str] = field(default_factory=list)  # out of scope, not coded
    queries: list[str] = field(default_factory=list)  # documentation queries: "topic: question"
    info: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


CSV_COLUMNS = tuple(f.name for f in fields(FlatRecord))
# free text (warnings hold ';' and ','): one item per line of the cell
CSV_LINE_LISTS = frozenset({"queries", "info", "warnings"})


def _date_cell(date: dict | None) -> str | None:
    if not date or not date.get("value"):
        return None
    return f"{date['value']} ({date.get('source')})"


def flat_record(record: dict) -> FlatRecord:
    err = record.get("error")
    if err:
        return FlatRecord(record.get("note_id"), [], [], [], None, None, f"{err.get('type')}: {err.get('message')}")
    procedures = record.get("procedures") or []
    return FlatRecord(
        note_id=record.get("note_id"),
        levels=[p["level"] for p in procedures],
        techniques=list(dict.fromkeys(p["technique"] for p in procedures)),
        codes=[format_code(c) for c in record.get("codes") or []],
        review=record.get("review"),
        confidence=record.get("confidence"),
        error=None,
        code_set=record.get("code_set"),
        date_of_service=_date_cell(record.get("date_of_service")),
        additional_codes=[format_code(c) for c in record.get("additional_codes") or []],
        pcs_codes=[f"{c['code']} ({c['level']})" if c.get("level") else c["code"]
                   for c in record.get("pcs_codes") or []],
        biopsy_only_levels=list(record.get("biopsy_only_levels") or []),
        not_treated=[f"{n['level']} ({n['reason']})" for n in record.get("not_treated") or []],
        other_procedures=list(record.get("other_procedures") or []),
        queries=[f"{q['topic']}: {q['question']}" for q in record.get("queries") or []],
        info=list(record.get("info") or []),
        warnings=list(record.get("warnings") or []),
    )


def _csv_cell(value, separator: str = ";") -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return separator.join(value)
    return repr(value) if isinstance(value, float) else str(value)


def csv_row(record: dict) -> list[str]:
    flat = flat_record(record)
    return [_csv_cell(getattr(flat, name), "\n" if name in CSV_LINE_LISTS else ";") for name in CSV_COLUMNS]


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - not every platform opens folders
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


class Writer:
    """write(record) for each record in order; checkpoint() after each chunk; close() or abort() once."""

    path: str

    def write(self, record: dict) -> None:  # pragma: no cover
        raise NotImplementedError

    def checkpoint(self) -> None:
        pass

    def close(self) -> None:  # pragma: no cover
        raise NotImplementedError

    def abort(self) -> None:
        """The batch stops early: keep what is safe to keep, release the file."""


def _lock(fh, path: str) -> None:
    """An exclusive advisory lock on OUT: two batches appending to one file would interleave records."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX: no lock
        return
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise OutputError(f"{path} is being written by another spinecode batch; not touching it") from None
    except OSError:  # pragma: no cover - a file system without locks
        pass


class JsonlWriter(Writer):
    """Appends to OUT (locked against a second batch); append=False empties it first, once locked."""

    def __init__(self, path: str, append: bool = False):
        self.path = path
        self._stdout = path == "-"
        try:
            if self._stdout:
                self._fh = sys.stdout.buffer
            else:
                self._fh = open(path, "ab")  # noqa: SIM115 - held open for the whole batch
                _lock(self._fh, path)
                if not append:
                    self._fh.truncate(0)
        except OSError as exc:
            raise OutputError(f"cannot open {path} for writing ({exc.strerror})") from None
        self._last_sync = time.monotonic()

    def write(self, record: dict) -> None:
        try:
            self._fh.write(json_line(record))
        except OSError as exc:
            raise OutputError(f"cannot write {self.path} ({exc.strerror})") from None

    def _sync(self, force: bool) -> None:
        try:
            self._fh.flush()
            if not self._stdout and (force or time.monotonic() - self._last_sync >= SYNC_SECONDS):
                os.fsync(self._fh.fileno())
                self._last_sync = time.monotonic()
        except OSError as exc:
            raise OutputError(f"cannot write {self.path} ({exc.strerror})") from None

    def checkpoint(self) -> None:
        self._sync(force=False)

    def close(self) -> None:
        self._sync(force=True)
        if not self._stdout:
            self._fh.close()

    def abort(self) -> None:  # everything written so far is a complete record: keep it for --resume
        try:
            self.close()
        except OutputError:
            pass


class _AtomicWriter(Writer):
    """Streams into a hidden temporary file beside OUT; close() moves it over OUT."""

    def __init__(self, path: str):
        self.path = path
        target = Path(path)
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        except OSError as exc:
            raise OutputError(f"cannot write into {target.parent} ({exc.strerror})") from None
        os.close(fd)
        self.tmp = Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        try:  # mkstemp makes the file 0600; OUT gets the usual permissions, like the JSONL output
            os.chmod(self.tmp, 0o666 & ~umask)
        except OSError:  # pragma: no cover
            pass

    def _commit(self) -> None:
        try:
            os.replace(self.tmp, self.path)
            _fsync_dir(Path(self.path).parent)
        except OSError as exc:
            self._discard()
            raise OutputError(f"cannot write {self.path} ({exc.strerror})") from None

    def _discard(self) -> None:
        try:
            self.tmp.unlink()
        except OSError:
            pass


class CsvWriter(_AtomicWriter):
    def __init__(self, path: str):
        super().__init__(path)
        try:
            self._fh = open(self.tmp, "w", encoding="utf-8", errors="backslashreplace", newline="")  # noqa: SIM115
            self._csv = csv.writer(self._fh)
            self._csv.writerow(CSV_COLUMNS)
        except OSError as exc:
            self._discard()
            raise OutputError(f"cannot write {path} ({exc.strerror})") from None

    def write(self, record: dict) -> None:
        try:
            self._csv.writerow(csv_row(record))
        except OSError as exc:
            raise OutputError(f"cannot write {self.path} ({exc.strerror})") from None

    def close(self) -> None:
        try:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
        except OSError as exc:
            self._discard()
            raise OutputError(f"cannot write {self.path} ({exc.strerror})") from None
        self._commit()

    def abort(self) -> None:
        try:
            self._fh.close()
        except OSError:
            pass
        self._discard()


# --------------------------------------------------------------------------- parquet


def _arrow_type(node: dict):
    """The Arrow type of a JSON Schema node of the output contract (nested structs and lists)."""
    import pyarrow as pa

    if "const" in node:
        node = {**node, "enum": [node["const"]]}
    kind = node.get("type")
    if kind is None and "enum" in node:
        values = [v for v in node["enum"] if v is not None]
        kinds = {type(v) for v in values}
        kind = {str: "string", bool: "boolean", int: "integer", float: "number"}.get(kinds.pop(), "string") \
            if len(kinds) == 1 else "string"
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else "string"
    if kind == "object":
        props = node.get("properties") or {}
        return pa.struct([pa.field(name, _arrow_type(sub)) for name, sub in props.items()]) if props else pa.string()
    if kind == "array":
        return pa.list_(_arrow_type(node.get("items") or {}))
    return {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_()}.get(
        kind, pa.string())


def parquet_schema():
    """Arrow schema of the Parquet output, derived from the contract's JSON Schema.

    The columns are the contract's fields (nested), `error` (struct of type and message, null for a
    good note) and `result`, the whole record as JSON (so fields added to records later are never lost).
    """
    import pyarrow as pa

    from .contract import output_schema

    variants = output_schema()["oneOf"]
    fields: dict[str, object] = {}
    for variant in variants:
        for name, sub in (variant.get("properties") or {}).items():
            if name not in fields:
                fields[name] = _arrow_type(sub)
    order = ["note_id"] + [n for n in fields if n != "note_id"]
    columns = [pa.field(name, fields[name]) for name in order]
    columns.append(pa.field("result", pa.string()))
    return pa.schema(columns)


class ParquetWriter(_AtomicWriter):
    ROWS_PER_GROUP = 1000

    def __init__(self, path: str, on_warning: Callable[[str], None] | None = None):
        try:
            import pyarrow as pa  # noqa: F401
            import pyarrow.parquet as pq
        except ImportError:
            raise OutputError("writing Parquet needs pyarrow: pip install 'spinecode[parquet]'") from None
        super().__init__(path)
        self.schema = parquet_schema()
        self._names = self.schema.names
        self._rows: list[dict] = []
        self._on_warning = on_warning or (lambda msg: None)
        try:
            self._pq = pq.ParquetWriter(str(self.tmp), self.schema, compression="zstd")
        except OSError as exc:
            self._discard()
            raise OutputError(f"cannot write {path} ({exc})") from None

    def write(self, record: dict) -> None:
        row = {name: record.get(name) for name in self._names if name != "result"}
        row["result"] = json_line(record)[:-1].decode("utf-8")
        self._rows.append(row)
        if len(self._rows) >= self.ROWS_PER_GROUP:
            self._flush_rows()

    def _flush_rows(self) -> None:
        import pyarrow as pa

        if not self._rows:
            return
        try:
            table = pa.Table.from_pylist(self._rows, schema=self.schema)
        except (pa.ArrowException, TypeError, ValueError):
            table = pa.Table.from_pylist([self._convertible(r) for r in self._rows], schema=self.schema)
        try:
            self._pq.write_table(table)
        except OSError as exc:
            raise OutputError(f"cannot write {self.path} ({exc})") from None
        self._rows = []

    def _convertible(self, row: dict) -> dict:
        """A row that does not fit the schema keeps note_id and result (the whole record) only."""
        import pyarrow as pa

        try:
            pa.Table.from_pylist([row], schema=self.schema)
            return row
        except (pa.ArrowException, TypeError, ValueError):
            self._on_warning("a record did not fit the Parquet columns; it is kept whole in 'result' only")
            return {"note_id": row.get("note_id"), "result": row["result"]}

    def close(self) -> None:
        try:
            self._flush_rows()
            self._pq.close()
            fd = os.open(self.tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except (OSError, OutputError) as exc:
            self._discard()
            raise OutputError(f"cannot write {self.path} ({exc})") from None
        self._commit()

    def abort(self) -> None:
        try:
            self._pq.close()
        except Exception:  # noqa: BLE001, S110
            pass
        self._discard()


def open_writer(path: str, fmt: str, append: bool = False,
                on_warning: Callable[[str], None] | None = None) -> Writer:
    if fmt == "jsonl":
        return JsonlWriter(path, append=append)
    if path == "-":
        raise OutputError(f"{fmt} output cannot go to standard output; give a file name")
    if fmt == "csv":
        return CsvWriter(path)
    if fmt == "parquet":
        return ParquetWriter(path, on_warning=on_warning)
    raise ValueError(fmt)


# --------------------------------------------------------------------------- resume


@dataclass
class ResumeState:
    """What an existing JSONL output already holds."""

    note_ids: list = field(default_factory=list)  # in file order (None for records without an id)
    records: int = 0
    repaired_bytes: int = 0  # bytes of a torn last line that were cut


def scan_jsonl(path: str, on_record: Callable[[dict], None] | None = None) -> ResumeState:
    """Read an existing JSONL output for --resume, cutting a torn tail.

    Complete lines (ending in a newline) that parse as a JSON object with a note_id are records.
    Whatever follows the last record (a half-written line, or zero bytes a crash left) is cut off,
    and those notes are extracted again. A broken line FOLLOWED by good records is not something a
    crash leaves: the file is refused (OutputError) rather than guessed at.
    """
    state = ResumeState()
    try:
        with open(path, "r+b") as fh:
            size = os.fstat(fh.fileno()).st_size
            good_end = 0
            broken_at: int | None = None
            for lineno, line in enumerate(fh, 1):
                record = None
                if line.endswith(b"\n"):
                    try:
                        record = json.loads(line)
                    except (ValueError, RecursionError):
                        record = None
                if not isinstance(record, dict) or "note_id" not in record:
                    if broken_at is None:
                        broken_at = lineno
                    continue
                if broken_at is not None:
                    raise OutputError(f"{path}: line {broken_at} is not a record but later lines are; "
                                      "not resuming (move the file away or run without --resume)")
                state.note_ids.append(record["note_id"])
                state.records += 1
                if on_record is not None:
                    on_record(record)
                good_end += len(line)
            if good_end < size:
                fh.truncate(good_end)
                fh.flush()
                os.fsync(fh.fileno())
                state.repaired_bytes = size - good_end
    except OSError as exc:
        raise OutputError(f"cannot read {path} for --resume ({exc.strerror})") from None
    return state
