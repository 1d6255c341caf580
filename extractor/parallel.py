"""The one process pool: `Extractor.pipe(n_process>1)` and `spinecode batch --workers N` both run on it.

Each worker process builds its extractor once (`start_worker`, the pool initializer) and keeps it for every
task; a task is a list of items and returns a list of results, one per item. Results come back in input
order. At most `in_flight` tasks are out at a time, so input is read only as fast as it is extracted.
When a worker dies (out of memory, a crash in native code) the pool is restarted, the task at the head is
redone one item at a time, and the item that kills a worker gets `on_crash(item)` instead of a result.

spaCy's own `nlp.pipe(n_process=...)` cannot be used: it fails (E871) because medspaCy puts `TargetRule`
objects in `doc.user_data`.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

MAX_BREAKS_IN_A_ROW = 8  # pool deaths with no task done in between before the pool gives up
WORKER_CRASHED = ("WorkerCrashed", "the worker process died while extracting this note (out of memory or a crash)")


class PoolError(Exception):
    """The pool cannot go on: its workers keep dying."""


class WorkerInitError(Exception):
    """A worker could not build its extractor (told by the first task: an initializer error only breaks the pool)."""


def chunked(items: Iterable, size: int) -> Iterator[list]:
    """Lists of `size` items (the last one shorter), in order."""
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --------------------------------------------------------------------------- inside a worker process

_WORKER: Any = None
_WORKER_PROBLEM: str | None = None


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(1)


def _die_with_parent() -> None:
    """A worker must not outlive its parent (kill -9 of a batch leaves no orphans)."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        except Exception:  # noqa: BLE001, S110 - pragma: no cover
            pass
    if os.getppid() != parent:  # pragma: no cover - the parent died while this worker started
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="spinecode-parent-watch").start()


def start_worker(build: Callable[..., Any], *args: Any) -> None:
    """Pool initializer: `build(*args)` once for this worker process (typically an Extractor)."""
    global _WORKER, _WORKER_PROBLEM
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent()
    try:
        _WORKER = build(*args)
    except Exception as exc:  # noqa: BLE001 - reported by current_worker, to the parent
        _WORKER_PROBLEM = f"{type(exc).__name__}: {exc}"


def current_worker() -> Any:
    """What `start_worker` built in this process; WorkerInitError when it could not."""
    if _WORKER is None:
        raise WorkerInitError(f"a worker could not build the pipeline ({_WORKER_PROBLEM})")
    return _WORKER


# --------------------------------------------------------------------------- the parent's side


class OrderedPool:
    """`processes` workers set up by `initializer(*initargs)`, running `task(items) -> results` in order.

    `task` and `initializer` must be module-level functions (they are sent to the workers by name).
    """

    def __init__(self, processes: int, initializer: Callable, initargs: tuple, task: Callable[[list], list],
                 on_crash: Callable[[Any], Any], in_flight: int | None = None):
        self.processes = processes
        self.initializer, self.initargs = initializer, initargs
        self.task, self.on_crash = task, on_crash
        self.limit = in_flight or 3 * processes
        self._pool: ProcessPoolExecutor | None = None
        self._breaks = 0
        self.restarts = 0

    def _submit(self, items: list):
        if self._pool is None:
            methods = mp.get_all_start_methods()
            ctx = mp.get_context("fork" if "fork" in methods else "spawn")
            self._pool = ProcessPoolExecutor(self.processes, mp_context=ctx, initializer=self.initializer,
                                             initargs=self.initargs)
        return self._pool.submit(self.task, items)

    def _restart(self) -> None:
        self._breaks += 1
        self.restarts += 1
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._breaks > MAX_BREAKS_IN_A_ROW:
            raise PoolError(f"worker processes died {self._breaks} times in a row; giving up")

    def _isolate(self, items: list) -> list:
        out: list = []
        for item in items:
            try:
                out.extend(self._submit([item]).result())
                self._breaks = 0
            except BrokenProcessPool:
                self._restart()
                out.append(self.on_crash(item))
        return out

    def map(self, jobs: Iterable[tuple[Any, list]]) -> Iterator[tuple[Any, list]]:
        """(tag, results) for each (tag, items) job, in order; a job with no items is not sent to a worker."""
        inflight: deque = deque()  # [tag, items, future or None]
        source = iter(jobs)
        more = True
        while True:
            while more and len(inflight) < self.limit:
                job = next(source, None)
                if job is None:
                    more = False
                    break
                tag, items = job
                inflight.append([tag, items, self._submit(items) if items else None])
            if not inflight:
                return
            tag, items, future = inflight.popleft()
            results: list = []
            if future is not None:
                try:
                    results = future.result()
                    self._breaks = 0
                except BrokenProcessPool:
                    self._restart()
                    results = self._isolate(items)
                    for job in inflight:
                        if job[2] is not None:
                            job[2] = self._submit(job[1])
            yield tag, results

    def close(self, abort: bool = False) -> None:
        """Stop the workers: after the running tasks (abort=False), or at once (abort=True: their results
        are not wanted, e.g. after Ctrl-C)."""
        if self._pool is None:
            return
        if abort:
            for process in list((getattr(self._pool, "_processes", None) or {}).values()):
                try:
                    process.terminate()
                except (OSError, AttributeError):  # pragma: no cover - already gone
                    pass
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = None
