"""The public face: `extract()`, `Extractor`, `NoteResult`.

read (text.py) → spaCy Doc (pipeline.py) → mentions (mentions.py) → facts (decide/)
→ codes (coding/) → record (NoteResult.to_dict, the contract of docs/output-contract.md).
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .coding import CodingResult, assign_codes
from .decide import facts_from_sentences
from .facts import NoteFacts, region_of
from .review.confidence import score
from .text import normalize

SCHEMA_VERSION = "1"
MAX_CHARS = 5_000_000

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
        facts, coding = self.facts, self.coding
        assert facts is not None and coding is not None
        return {
            "schema_version": SCHEMA_VERSION,
            "note_id": self.note_id,
            "procedures": [
                {
                    "level": p.level,
                    "region": region_of(p.level),
                    "technique": p.technique,
                    "approach": p.approach,
                    "side": p.side,
                    "cavity_device": p.cavity_device,
                    "cement": p.cement,
                    "cement_volume_ml": p.cement_volume_ml,
                    "biopsy": p.biopsy,
                    "guidance": p.guidance,
                    "evidence": [e.to_dict() for e in p.evidence],
                }
                for p in facts.procedures
            ],
            "biopsy_only_levels": facts.biopsy_only_levels,
            "imaging": list(facts.imaging),
            "not_treated": [{"level": n.level, "reason": n.reason} for n in facts.not_treated],
            "other_procedures": list(facts.other_procedures),
            "code_set": coding.code_set,
            "date_of_service": coding.date_of_service,
            "codes": [c.to_dict() for c in coding.codes],
            "pcs_codes": [c.to_dict() for c in coding.pcs_codes],
            "confidence": self.confidence,
            "review": self.review,
            "warnings": list(self.warnings),
        }


def error_result(note_id: str | None, kind: str, message: str) -> NoteResult:
    return NoteResult(note_id=note_id, error={"type": kind, "message": message})


class Extractor:
    """Builds the pipeline once; extracts many notes with it."""

    def __init__(self, code_set: str = "current"):
        from .coding import resolve_code_set
        from .pipeline import get_pipeline

        resolve_code_set(code_set, None)  # validates the name early
        self.code_set = code_set
        self.nlp = get_pipeline()

    # -- one note
    def extract(self, text: str, note_id: str | None = None, date_of_service=None) -> NoteResult:
        problem = _check_text(text)
        if problem:
            return error_result(note_id, *problem)
        return self._from_doc(self.nlp(normalize(text)), text, note_id, date_of_service)

    def _from_doc(self, doc, text: str, note_id, date_of_service) -> NoteResult:
        from .mentions import doc_to_sentences, token_texts

        try:
            sentences = doc_to_sentences(doc, text)
            facts = facts_from_sentences(sentences, text, token_texts(doc).__getitem__)
            coding = assign_codes(facts, self.code_set, date_of_service)
        except Exception as exc:  # noqa: BLE001  a bug must not stop a batch; the message never holds note text
            return error_result(note_id, "ProcessingError", f"{type(exc).__name__} while processing note")
        confidence, review, warnings = score(facts, coding, text)
        return NoteResult(note_id, facts, coding, confidence, review, warnings)

    # -- many notes
    def pipe(self, items: Iterable[Item], n_process: int = 1, batch_size: int = 32) -> Iterator[NoteResult]:
        """Results in input order. items: texts, (note_id, text) or (note_id, text, date_of_service)."""
        if n_process <= 1:
            yield from self._pipe_serial(items, batch_size)
            return
        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context("spawn")
        with ctx.Pool(n_process, initializer=_worker_init, initargs=(self.code_set,)) as pool:
            for chunk in pool.imap(_worker_run, _chunks(_normalise_items(items), batch_size)):
                yield from (r for r in chunk)

    def _pipe_serial(self, items: Iterable[Item], batch_size: int) -> Iterator[NoteResult]:
        for chunk in _chunks(_normalise_items(items), batch_size):
            yield from _run_chunk(self, chunk)


def _check_text(text) -> tuple[str, str] | None:
    if not isinstance(text, str):
        return ("InputError", f"note text must be str, got {type(text).__name__}")
    if not text.strip():
        return ("EmptyNote", "note is empty or whitespace only")
    if len(text) > MAX_CHARS:
        return ("NoteTooLarge", f"note has {len(text)} characters; the limit is {MAX_CHARS}")
    return None


def _normalise_items(items: Iterable[Item]) -> Iterator[tuple]:
    for k, item in enumerate(items):
        if isinstance(item, str):
            yield (None, item, None)
        elif len(item) == 2:
            yield (item[0], item[1], None)
        else:
            yield (item[0], item[1], item[2])


def _chunks(items: Iterator[tuple], size: int) -> Iterator[list[tuple]]:
    chunk: list[tuple] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _run_chunk(extractor: Extractor, chunk: list[tuple]) -> list[NoteResult]:
    results: list[NoteResult | None] = [None] * len(chunk)
    good = []
    for k, (note_id, text, _dos) in enumerate(chunk):
        problem = _check_text(text)
        if problem:
            results[k] = error_result(note_id, *problem)
        else:
            good.append(k)
    docs = extractor.nlp.pipe(normalize(chunk[k][1]) for k in good)
    for k, doc in zip(good, docs):
        note_id, text, dos = chunk[k]
        results[k] = extractor._from_doc(doc, text, note_id, dos)
    return [r for r in results if r is not None]


_WORKER: Extractor | None = None


def _worker_init(code_set: str) -> None:
    global _WORKER
    _WORKER = Extractor(code_set=code_set)


def _worker_run(chunk: list[tuple]) -> list[NoteResult]:
    assert _WORKER is not None
    return _run_chunk(_WORKER, chunk)


_DEFAULT: dict[str, Extractor] = {}


def extract(text: str, note_id: str | None = None, code_set: str = "current", date_of_service=None) -> NoteResult:
    """Extract one note with the process-wide pipeline (built on first call)."""
    if code_set not in _DEFAULT:
        _DEFAULT[code_set] = Extractor(code_set=code_set)
    return _DEFAULT[code_set].extract(text, note_id=note_id, date_of_service=date_of_service)
