"""`spinecode batch`: many notes in, one record per note out, in input order, never stopping for one note.

    source (readers.py) → chunks of notes → extraction (this process, or a pool of worker processes,
    each building the pipeline once) → records in input order → writer (writers.py) + progress + stats

Exit codes: 0 every note processed without an error record; 1 the output holds error records (or a
folder could not be listed); 2 usage error, unreadable input as a whole, or OUT cannot be written;
130 interrupted (Ctrl-C / SIGTERM; a JSONL output keeps every record written so far: rerun with --resume).

Note text never goes to stderr or into an error message: messages name the problem and the note id.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TextIO

from .api import Extractor, error_result
from .parallel import (
    WORKER_CRASHED,
    OrderedPool,
    PoolError,
    WorkerInitError,
    chunked,
    current_worker,
    start_worker,
)
from .readers import DEFAULT_GLOB, DEFAULT_MAX_BYTES, InputError, Source, SourceNote, open_source
from .writers import OutputError, Writer, format_for, open_writer, scan_jsonl

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
CHUNK_SIZE = 16  # notes per unit of work: small, so little is in flight when a run is killed


class BatchError(Exception):
    """The batch cannot go on (exit code 2)."""


# --------------------------------------------------------------------------- extraction of one chunk


def extract_items(extractor: Extractor, items: list[tuple]) -> list[dict]:
    """Records for (note_id, text, date_of_service) items, in order; an exception costs one note, not the chunk."""
    try:
        return [r.to_dict() for r in extractor.pipe(items, n_process=1, batch_size=max(1, len(items)))]
    except Exception:  # noqa: BLE001
        out = []
        for note_id, text, dos in items:
            try:
                out.append(extractor.extract(text, note_id=note_id, date_of_service=dos).to_dict())
            except Exception as exc:  # noqa: BLE001 - the message never holds note text
                out.append(error_result(note_id, "ProcessingError",
                                        f"{type(exc).__name__} while processing note").to_dict())
        return out


def merge_records(notes: list[SourceNote], results: list[dict]) -> list[dict]:
    """Records for a chunk of notes: error records for unreadable notes, results (in order) for the others."""
    good = iter(results)
    out = []
    for note in notes:
        if note.error is not None:
            out.append(error_result(note.note_id, *note.error).to_dict())
            continue
        record = next(good)
        if note.warnings and "error" not in record:
            record["warnings"] = list(note.warnings) + list(record.get("warnings") or [])
        out.append(record)
    if next(good, None) is not None:  # pragma: no cover - pipe() yields one result per item
        raise RuntimeError("more results than notes")
    return out


def _items(notes: list[SourceNote]) -> list[tuple]:
    return [(n.note_id, n.text, n.date_of_service) for n in notes if n.error is None]


def process_notes(extractor: Extractor, notes: list[SourceNote]) -> list[dict]:
    """One chunk, in this process (used by the single-process batch and by extractor.spark)."""
    items = _items(notes)
    return merge_records(notes, extract_items(extractor, items) if items else [])


# --------------------------------------------------------------------------- worker processes


def worker_init(code_set: str) -> None:
    """Pool initializer: build the pipeline once for this worker process (Extractor is looked up here, so a
    stand-in set on this module before the pool starts is what the workers build)."""
    start_worker(Extractor, code_set)


def worker_run(items: list[tuple]) -> list[dict]:
    return extract_items(current_worker(), items)


def _crash_record(item: tuple) -> dict:
    return error_result(item[0], *WORKER_CRASHED).to_dict()


class LocalEngine:
    """Extraction in this process (--workers 1)."""

    def __init__(self, code_set: str):
        self.extractor = Extractor(code_set=code_set)

    def run(self, chunks: Iterable[list[SourceNote]]) -> Iterator[list[dict]]:
        for notes in chunks:
            yield process_notes(self.extractor, notes)

    def close(self, abort: bool = False) -> None:
        pass


class PoolEngine:
    """Extraction in N worker processes (extractor.parallel), records in input order.

    At most `3 * workers` chunks are in flight. If a worker dies, the note that killed it gets a
    WorkerCrashed error record and the batch goes on; a pool that keeps dying stops the batch (BatchError).
    """

    def __init__(self, workers: int, code_set: str, init: Callable = worker_init, work: Callable = worker_run):
        self.workers = workers
        self._pool = OrderedPool(workers, init, (code_set,), work, on_crash=_crash_record)

    @property
    def restarts(self) -> int:
        return self._pool.restarts

    def run(self, chunks: Iterable[list[SourceNote]]) -> Iterator[list[dict]]:
        try:
            for notes, results in self._pool.map((notes, _items(notes)) for notes in chunks):
                yield merge_records(notes, results)
        except (WorkerInitError, PoolError) as exc:
            raise BatchError(str(exc)) from None

    def close(self, abort: bool = False) -> None:
        """Stop the workers: after the running chunks, or at once (abort=True, e.g. after Ctrl-C)."""
        self._pool.close(abort=abort)


# --------------------------------------------------------------------------- progress and summary


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def progress_mode(requested: str, quiet: bool, stream: TextIO) -> str:
    """bar (a terminal), lines (periodic plain lines), none (--quiet, or CI=true)."""
    if quiet:
        return "none"
    if requested != "auto":
        return requested
    if _in_ci():
        return "none"
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return "bar" if tty else "lines"


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class Progress:
    """A rich progress bar (notes/s, ETA) on a terminal, or a plain line every `interval` seconds."""

    def __init__(self, mode: str, total: int | None, done: int = 0, stream: TextIO = sys.stderr,
                 interval: float = 10.0, fraction: Callable[[], float | None] | None = None):
        self.mode, self.total, self.stream, self.interval = mode, total, stream, interval
        self.known_total = total is not None
        self._fraction = None if total is not None else fraction  # estimates the total from bytes read
        self.done = done
        self.new = 0
        self.errors = 0
        self.start = time.monotonic()
        self._last_line = self.start
        self._last_refresh = 0.0
        self._bar = None
        if mode == "bar":
            try:
                self._start_bar()
            except Exception:  # noqa: BLE001 - rich missing or unusable: fall back to plain lines
                self.mode = "lines"

    def _start_bar(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            ProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichProgress
        from rich.text import Text

        class Rate(ProgressColumn):
            def render(self, task) -> Text:
                return Text(f"{task.speed or 0:.1f} notes/s")

        # no refresh thread (auto_refresh=False): worker processes may be forked while the bar runs
        self._bar = RichProgress(TextColumn("spinecode batch"), BarColumn(), MofNCompleteColumn(), Rate(),
                                 TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[errors]} errors"),
                                 console=Console(file=self.stream), auto_refresh=False, transient=False)
        self._bar.start()
        self._task = self._bar.add_task("notes", total=self.total, completed=self.done, errors=0)
        self._bar.refresh()

    def advance(self, n: int, errors: int) -> None:
        self.done += n
        self.new += n
        self.errors += errors
        now = time.monotonic()
        if self._fraction is not None:
            share = self._fraction()
            if share and share > 0.001:
                self.total = max(self.done, round(self.done / share))
        if self._bar is not None:
            self._bar.update(self._task, advance=n, errors=self.errors, total=self.total)
            if now - self._last_refresh >= 0.1:
                self._bar.refresh()
                self._last_refresh = now
        elif self.mode == "lines" and now - self._last_line >= self.interval:
            self._last_line = now
            self.stream.write(self.line(now) + "\n")
            self.stream.flush()

    def line(self, now: float | None = None) -> str:
        elapsed = max((now or time.monotonic()) - self.start, 1e-9)
        rate = self.new / elapsed
        text = f"spinecode batch: {self.done}"
        if self.total:
            about = "" if self.known_total else "~"
            text += f"/{about}{self.total} notes ({100 * self.done / self.total:.0f}%)"
        else:
            text += " notes"
        text += f", {rate:.1f} notes/s"
        if self.total and rate > 0:
            text += f", ETA {_duration(max(self.total - self.done, 0) / rate)}"
        return text + f", {self.errors} errors"

    def close(self) -> None:
        if self._bar is not None:
            self._bar.refresh()
            self._bar.stop()
            self._bar = None


class Stats:
    """Counts over every record of OUT (including those an earlier run wrote, with --resume)."""

    def __init__(self) -> None:
        self.notes = 0
        self.errors: Counter = Counter()
        self.review = 0
        self.code_notes: Counter = Counter()
        self.code_units: Counter = Counter()

    def add(self, record: dict) -> None:
        self.notes += 1
        error = record.get("error")
        if error:
            self.errors[str(error.get("type"))] += 1
            return
        self.review += bool(record.get("review"))
        for code in record.get("codes") or []:
            self.code_notes[code.get("code")] += 1
            self.code_units[code.get("code")] += code.get("units") or 0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def summary(stats: Stats, out: str, seconds: float, new: int, resumed: int, repaired: int,
            problems: list[str], orphans: int) -> str:
    rate = new / seconds if seconds > 0 else 0.0
    lines = [f"spinecode batch: {stats.notes} notes in {out} ({new} extracted in {seconds:.1f} s, {rate:.1f} notes/s)"]
    if resumed or repaired:
        text = f"  resumed: {resumed} records were already in {out}"
        if repaired:
            text += f"; a torn last line ({repaired} bytes) was cut"
        lines.append(text)
    if orphans:
        lines.append(f"  note: {orphans} records in {out} match no note of the input (kept)")
    errs = ", ".join(f"{k} {v}" for k, v in sorted(stats.errors.items()))
    lines.append(f"  errors: {stats.error_count}" + (f" ({errs})" if errs else ""))
    lines.append(f"  review: {stats.review}")
    codes = ", ".join(f"{code} in {stats.code_notes[code]} notes ({stats.code_units[code]} units)"
                      for code in sorted(stats.code_notes))
    lines.append(f"  codes: {codes or 'none'}")
    lines.extend(f"  warning: {p}" for p in problems)
    return "\n".join(lines)


# --------------------------------------------------------------------------- the batch


def _where(exc: BaseException) -> str:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:  # pragma: no cover
        return "?"
    return f"{Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}"


class _Terminated(KeyboardInterrupt):
    pass


def _on_sigterm(signum, frame):  # pragma: no cover - exercised by hand
    raise _Terminated()


def _skip_written(notes: Iterable[SourceNote], written: Counter) -> Iterator[SourceNote]:
    """Skip, for each note id, as many notes as OUT already holds records for (duplicates included)."""
    for note in notes:
        if written.get(note.note_id, 0) > 0:
            written[note.note_id] -= 1
            continue
        yield note


def _remember(chunks, pending):
    for chunk in chunks:
        if pending is not None:
            pending.append(chunk)
        yield chunk


def run_batch(input: str, out, code_set: str = "current", workers: int = 1, resume: bool = False,
              id_col: str = "note_id", text_col: str = "text", date_col: str | None = None,
              max_bytes: int = DEFAULT_MAX_BYTES, quiet: bool = False, glob: str = DEFAULT_GLOB,
              fmt: str | None = None, progress: str = "auto", progress_interval: float = 10.0,
              stderr: TextIO | None = None, stdin=None, chunk_size: int = CHUNK_SIZE, html: str | None = None) -> int:
    """Run a batch; returns the exit code (see the module docstring). Never raises for a bad note."""
    err = stderr or sys.stderr
    start = time.monotonic()
    out = str(out)

    def fail(message: str, code: int = EXIT_USAGE) -> int:
        err.write(f"spinecode batch: error: {message}\n")
        err.flush()
        return code

    # ---- arguments, input, output: all checked before anything is written
    if workers < 1:
        return fail("--workers must be at least 1")
    if max_bytes < 1:
        return fail("--max-bytes must be at least 1")
    try:
        from .coding import resolve_code_set

        resolve_code_set(code_set, None)
        fmt = format_for(out, fmt)
    except ValueError as exc:
        return fail(str(exc))
    if resume and (fmt != "jsonl" or out == "-"):
        return fail("--resume works with a .jsonl output file only (CSV and Parquet are written atomically)")
    if progress not in ("auto", "bar", "lines", "none"):
        return fail("--progress must be auto, bar, lines or none")
    out_path = Path(out)
    if out != "-":
        if out_path.is_dir():
            return fail(f"--out {out} is a folder; give a file name")
        try:
            out_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return fail(f"cannot create the folder of {out} ({exc.strerror})")
    try:
        source: Source = open_source(input, pattern=glob, id_col=id_col, text_col=text_col, date_col=date_col,
                                     max_bytes=max_bytes, exclude=() if out == "-" else (out_path,), stdin=stdin)
    except InputError as exc:
        return fail(str(exc))

    stats = Stats()
    written: Counter = Counter()
    resumed = repaired = 0
    parquet_warnings: list[str] = []
    try:  # a JSONL OUT is locked first, then (with --resume) read back
        writer: Writer = open_writer(out, fmt, append=resume, on_warning=parquet_warnings.append)
    except OutputError as exc:
        source.close()
        return fail(str(exc))
    if resume:
        try:
            state = scan_jsonl(out, on_record=stats.add)
        except OutputError as exc:
            writer.abort()
            source.close()
            return fail(str(exc))
        written.update(state.note_ids)
        resumed, repaired = state.records, state.repaired_bytes

    # ---- extraction
    old_sigterm = None
    if threading.current_thread() is threading.main_thread():
        old_sigterm = signal.signal(signal.SIGTERM, _on_sigterm)
    engine = None
    bar: Progress | None = None
    code = EXIT_OK
    finished = False
    try:
        try:
            engine = LocalEngine(code_set) if workers == 1 else PoolEngine(workers, code_set)
        except Exception as exc:  # noqa: BLE001
            raise BatchError(f"cannot build the pipeline ({type(exc).__name__}: {exc})") from None
        bar = Progress(progress_mode(progress, quiet, err), source.total, done=resumed, stream=err,
                       interval=progress_interval, fraction=source.fraction_read)
        notes = _skip_written(source, written) if written else iter(source)
        sink, pending = None, deque()  # the review view needs each record's text: chunks come back in order
        if html:
            from .html_view import HtmlSink

            sink = HtmlSink(html)
        for records in engine.run(_remember(chunked(notes, chunk_size), pending if sink else None)):
            texts = [n.text for n in pending.popleft()] if sink else []
            errors = 0
            for i, record in enumerate(records):
                writer.write(record)
                if sink:
                    sink.write(record, texts[i] if i < len(texts) and "error" not in record else None)
                stats.add(record)
                errors += "error" in record
            writer.checkpoint()
            bar.advance(len(records), errors)
        bar.close()
        writer.close()
        if sink:
            sink.close()
        finished = True
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    except (InputError, OutputError, BatchError) as exc:
        code = EXIT_USAGE
        message = str(exc)
    except Exception as exc:  # noqa: BLE001 - a bug: name it, but its message might quote a note
        code = EXIT_USAGE
        message = f"internal error: {type(exc).__name__} at {_where(exc)} (message withheld: it may hold note text)"
    finally:
        if bar is not None:
            bar.close()
        if engine is not None:
            engine.close(abort=not finished)
        if not finished:
            writer.abort()
        source.close()
        if old_sigterm is not None:
            signal.signal(signal.SIGTERM, old_sigterm)

    if code == EXIT_INTERRUPTED:
        if out == "-":
            hint = ""
        elif fmt == "jsonl":
            hint = f"; {out} holds {stats.notes} records: rerun with --resume to go on"
        else:
            hint = f"; {out} was not changed"
        err.write(f"spinecode batch: interrupted{hint}\n")
        return code
    if code == EXIT_USAGE:
        resumable = fmt == "jsonl" and out != "-" and stats.notes
        kept = f" ({stats.notes} records are in {out}; rerun with --resume)" if resumable else ""
        return fail(message + kept)

    if not quiet:
        orphans = sum(v for v in written.values() if v > 0)
        err.write(summary(stats, out, time.monotonic() - start, bar.new if bar else 0, resumed, repaired,
                          source.problems + parquet_warnings, orphans) + "\n")
        err.flush()
    return EXIT_ERRORS if stats.error_count or source.problems else EXIT_OK
