"""The public face: `extract()`, `Extractor`, `NoteResult`.

read (text.py) → spaCy Doc (pipeline/) → mentions (mentions.py) → facts (decide/)
→ codes (coding/) → record (NoteResult.to_dict, the contract of docs/output-contract.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .coding import CodingResult, assign_codes
from .decide import facts_from_sentences
from .facts import NoteFacts
from .gate import facts_without_doc, gate_enabled, needs_pipeline
from .parallel import WORKER_CRASHED, OrderedPool, chunked, current_worker, start_worker
from .review.confidence import score
from .text import normalize

SCHEMA_VERSION = "1"
# spaCy's own default limit (Language.max_length): longer notes get a NoteTooLarge record, not an exception
MAX_CHARS = 1_000_000

Item = str | tuple


@dataclass
class NoteResult:
    note_id: str | None
    facts: NoteFacts | None = None
    coding: CodingResult | None = None
    confidence: float = 0.0
    review: bool = True
    warnings: list[str] = field(default_factory=list)
    error: dict | None = None

    def to_dict(self) -> dict:
        if self.error is not None:
            return {"schema_version": SCHEMA_VERSION, "note_id": self.note_id, "error": dict(self.error)}
        assert self.facts is not None and self.coding is not None
        coding = self.coding.to_dict()
        del coding["warnings"], coding["review"]  # the record's are the scored ones, below (they include these)
        return {
            "schema_version": SCHEMA_VERSION,
            "note_id": self.note_id,
            **self.facts.to_dict(),
            **coding,
            "confidence": self.confidence,
            "review": self.review,
            "warnings": list(self.warnings),
        }


def error_result(note_id: str | None, kind: str, message: str) -> NoteResult:
    return NoteResult(note_id=note_id, error={"type": kind, "message": message})


class Extractor:
    """Builds the pipeline once; extracts many notes with it."""

    def __init__(self, code_set: str = "current", nlp=None, gate: bool | None = None):
        """nlp: a spaCy pipeline to use instead of the process-wide one, e.g. `spacy.load(folder)` of a
        pipeline saved with `Extractor().nlp.to_disk(folder)`. gate: False runs the pipeline on every note
        (None: on unless SPINECODE_GATE=0); a note the relevance gate (gate.py) lets pass gets the same
        record without a spaCy Doc."""
        from .coding import resolve_code_set
        from .pipeline import get_pipeline

        resolve_code_set(code_set, None)  # validates the name early
        self.code_set = code_set
        self.nlp = get_pipeline() if nlp is None else nlp
        self.nlp.max_length = max(self.nlp.max_length, MAX_CHARS)
        self._own_nlp = nlp is not None
        self.gate = gate_enabled(gate)

    # -- one note
    def extract(self, text: str, note_id: str | None = None, date_of_service=None) -> NoteResult:
        """A bad date_of_service raises ValueError (TypeError for a wrong type): a caller's mistake."""
        from .coding import parse_date

        parse_date(date_of_service)
        problem = _check_text(text)
        if problem:
            return error_result(note_id, *problem)
        normalized = normalize(text)  # read once: the gate, the pipeline and the review model share it
        if self.gate and not needs_pipeline(text, normalized):
            return self._from_text(text, normalized, note_id, date_of_service)
        return self._from_doc(self.nlp(normalized), text, note_id, date_of_service)

    def _from_doc(self, doc, text: str, note_id, date_of_service) -> NoteResult:
        from .mentions import doc_to_sentences, token_texts
        from .pipeline.doc_text import doc_text

        normalized = doc_text(doc)  # the Doc holds the note's normal form
        return self._result(lambda: facts_from_sentences(doc_to_sentences(doc, text), text, token_texts(doc).__getitem__,
                                                         normalized),
                            text, normalized, note_id, date_of_service)

    def _from_text(self, text: str, normalized: str, note_id, date_of_service) -> NoteResult:
        """The record of a note the gate lets pass (no cue that could change it): no spaCy Doc."""
        return self._result(lambda: facts_without_doc(text), text, normalized, note_id, date_of_service)

    def _result(self, read_facts, text: str, normalized: str, note_id, date_of_service) -> NoteResult:
        try:
            facts = read_facts()
            coding = assign_codes(facts, self.code_set, date_of_service)
        except Exception as exc:  # noqa: BLE001  a bug must not stop a batch; the message never holds note text
            return error_result(note_id, "ProcessingError", f"{type(exc).__name__} while processing note")
        confidence, review, warnings = score(facts, coding, text, normalized)
        return NoteResult(note_id, facts, coding, confidence, review, warnings)

    # -- many notes
    def pipe(self, items: Iterable[Item], n_process: int = 1, batch_size: int = 32) -> Iterator[NoteResult]:
        """Results in input order. items: texts, (note_id, text) or (note_id, text, date_of_service).

        With n_process > 1 the notes go to worker processes (extractor.parallel); a note that kills its
        worker gets a WorkerCrashed error result, and an item whose date_of_service is not an ISO date an
        InvalidDateOfService one.
        """
        chunks = chunked(_normalise_items(items), batch_size)
        if n_process <= 1:
            for chunk in chunks:
                yield from _run_chunk(self, chunk)
            return
        pool = OrderedPool(n_process, start_worker,
                           (Extractor, self.code_set, self.nlp if self._own_nlp else None, self.gate),
                           _run_chunk_in_worker,
                           on_crash=_crash_result)
        finished = False
        try:
            for _, results in pool.map((None, chunk) for chunk in chunks):
                yield from results
            finished = True
        finally:  # a caller that stops early does not want the results in flight
            pool.close(abort=not finished)


def _check_text(text) -> tuple[str, str] | None:
    if not isinstance(text, str):
        return ("InputError", f"note text must be str, got {type(text).__name__}")
    if not text.strip():
        return ("EmptyNote", "note is empty or whitespace only")
    if len(text) > MAX_CHARS:
        return ("NoteTooLarge", f"note has {len(text)} characters; the limit is {MAX_CHARS}")
    return None


def _check_date(value) -> tuple[str, str] | None:
    """A pipe item's bad date of service costs that note only (extract() raises: one caller, one mistake)."""
    from .coding import parse_date

    try:
        parse_date(value)
    except (ValueError, TypeError):  # the value is not echoed: dates are patient data too
        return ("InvalidDateOfService", "date_of_service is not an ISO date (YYYY-MM-DD)")
    return None


def _normalise_items(items: Iterable[Item]) -> Iterator[tuple]:
    for k, item in enumerate(items):
        if isinstance(item, str):
            yield (None, item, None)
        elif len(item) == 2:
            yield (item[0], item[1], None)
        else:
            yield (item[0], item[1], item[2])


def _run_chunk(extractor: Extractor, chunk: list[tuple]) -> list[NoteResult]:
    results: list[NoteResult | None] = [None] * len(chunk)
    good, normalized = [], []
    for k, (note_id, text, dos) in enumerate(chunk):
        problem = _check_text(text) or _check_date(dos)
        if problem:
            results[k] = error_result(note_id, *problem)
            continue
        normal_form = normalize(text)
        if extractor.gate and not needs_pipeline(text, normal_form):
            results[k] = extractor._from_text(text, normal_form, note_id, dos)
        else:
            good.append(k)
            normalized.append(normal_form)
    docs = extractor.nlp.pipe(normalized)
    done = 0
    try:
        for k, doc in zip(good, docs):
            note_id, text, dos = chunk[k]
            results[k] = extractor._from_doc(doc, text, note_id, dos)
            done += 1
    except Exception:  # noqa: BLE001  one bad note must not cost the chunk: the rest go note by note
        for k in good[done:]:
            note_id, text, dos = chunk[k]
            try:
                results[k] = extractor.extract(text, note_id=note_id, date_of_service=dos)
            except Exception as exc:  # noqa: BLE001  the message never holds note text
                results[k] = error_result(note_id, "ProcessingError", f"{type(exc).__name__} while processing note")
    return [r for r in results if r is not None]


def _run_chunk_in_worker(chunk: list[tuple]) -> list[NoteResult]:
    return _run_chunk(current_worker(), chunk)


def _crash_result(item: tuple) -> NoteResult:
    return error_result(item[0], *WORKER_CRASHED)


_DEFAULT: dict[str, Extractor] = {}


def extract(text: str, note_id: str | None = None, code_set: str = "current", date_of_service=None) -> NoteResult:
    """Extract one note with the process-wide pipeline (built on first call)."""
    if code_set not in _DEFAULT:
        _DEFAULT[code_set] = Extractor(code_set=code_set)
    return _DEFAULT[code_set].extract(text, note_id=note_id, date_of_service=date_of_service)
