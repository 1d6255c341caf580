"""`spinecode` command line: extract one note, run a batch, evaluate against gold, train."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import __version__

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Vertebral augmentation notes → facts → CPT codes.")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"spinecode {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """spinecode: read vertebroplasty / augmentation / sacroplasty notes and code them."""


@app.command()
def extract(
    path: str = typer.Argument(..., help="A note file, or - for standard input."),
    code_set: str = typer.Option("current", "--code-set", help="current | legacy | auto"),
    date_of_service: str | None = typer.Option(None, "--date-of-service", help="YYYY-MM-DD (used by --code-set auto)"),
    fmt: str = typer.Option("json", "--format", help="json | text | html"),
) -> None:
    """Print the result for one note."""
    from .api import Extractor, error_result
    from .coding import parse_date
    from .text import NoteDecodeError, decode_note

    try:
        parse_date(date_of_service)
    except ValueError as exc:  # a usage error, before any note is read
        typer.echo(f"error: --date-of-service: {exc}", err=True)
        raise typer.Exit(2) from None
    note_id = None if path == "-" else Path(path).stem
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        text, read_warnings = decode_note(data)
        result = Extractor(code_set=code_set).extract(text, note_id=note_id, date_of_service=date_of_service)
        result.warnings = read_warnings + result.warnings
    except (OSError, NoteDecodeError) as exc:
        result = error_result(note_id, type(exc).__name__, str(exc) if isinstance(exc, NoteDecodeError) else f"cannot read {path}")
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    if fmt == "html":
        from .html_view import note_page

        typer.echo(note_page(result.to_dict(), None if result.error else text), nl=False)
    elif fmt == "text":
        typer.echo(summary(result.to_dict()))
    else:
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    if result.error:
        raise typer.Exit(1)


def summary(rec: dict) -> str:
    """A short human summary: levels, technique, codes, warnings."""
    from .writers import format_code

    if "error" in rec:
        return f"{rec['note_id']}: ERROR {rec['error']['type']}: {rec['error']['message']}"
    lines = [f"note: {rec['note_id']}   code set: {rec['code_set']}   confidence: {rec['confidence']}"
             f"   review: {'YES' if rec['review'] else 'no'}"]
    if not rec["procedures"]:
        lines.append("treated levels: none")
    for p in rec["procedures"]:
        approach = p["approach"] or "approach not stated"
        if p["side"]:
            approach += f" ({p['side']})"
        extra = [x for x in (p["cavity_device"] and f"{p['cavity_device']} cavity", p["cement"],
                             p["cement_volume_ml"] is not None and f"{p['cement_volume_ml']} mL",
                             p["biopsy"] and "biopsy") if x]
        lines.append(f"  {p['level']:<7} {p['technique']:<15} {approach:<24} {', '.join(extra)}")
    if rec["biopsy_only_levels"]:
        lines.append(f"biopsy only: {', '.join(rec['biopsy_only_levels'])}")
    if rec["not_treated"]:
        lines.append("not treated: " + ", ".join(f"{n['level']} ({n['reason']})" for n in rec["not_treated"]))
    lines.append(f"imaging: {', '.join(rec['imaging']) or 'none'}")
    lines.append("codes: " + (", ".join(format_code(c) for c in rec["codes"]) or "none"))
    if rec.get("additional_codes"):
        lines.append("additional codes: " + ", ".join(format_code(c) for c in rec["additional_codes"]))
    for c in rec["codes"] + (rec.get("additional_codes") or []):
        lines.append(f"  {format_code(c)}: {c.get('description', '')}")
        lines.append(f"    why: {c.get('rationale', '')}")
        levels = set(c.get("levels") or [])
        quotes = [e["text"] for p in rec["procedures"] if p["level"] in levels for e in p["evidence"]
                  if e["label"] != "LEVEL"] + [e["text"] for e in c.get("evidence") or []]
        if quotes:
            lines.append("    evidence: " + "; ".join(f'"{q}"' for q in dict.fromkeys(quotes)))
    for p in rec.get("pcs_codes") or []:
        lines.append(f"ICD-10-PCS {p['code']} ({p['level']}): {p['description']}")
    for q in rec.get("queries") or []:
        lines.append(f"query ({q.get('topic')}): {q.get('question')}")
    for line in rec.get("info") or []:
        lines.append(f"info: {line}")
    for w in rec["warnings"]:
        lines.append(f"warning: {w}")
    return "\n".join(lines)


@app.command(help=(
    "Extract every note of a folder or table: one record per note, in input order.\n\n"
    "A note that cannot be read (empty, binary, undecodable, too large, not a regular file) gets an error record; "
    "the batch never stops for one note. A summary goes to stderr. See docs/batch.md.\n\n"
    "Exit codes: 0 every note processed; 1 some records are error records; 2 usage error, unreadable input or "
    "OUT cannot be written; 130 interrupted (rerun with --resume for a JSONL output)."
))
def batch(
    input: Annotated[str, typer.Argument(help="A folder of notes (recursive), a .csv/.tsv/.jsonl/.parquet table "
                                         "with id and text columns, or - for JSONL on standard input.")],
    out: Annotated[Path, typer.Option("--out", help="Output file, format by extension: .jsonl (default; one "
                                      "contract record per line), .csv (one flat row per note), .parquet (nested "
                                      "contract columns). - writes JSONL to standard output.")],
    code_set: Annotated[str, typer.Option("--code-set", help="current | legacy | auto (auto uses --date-col)")]
    = "current",
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes, each building the pipeline "
                                         "once. The output does not depend on it.")] = 1,
    resume: Annotated[bool, typer.Option("--resume", help="JSONL output only: keep the records already in OUT "
                                         "(after a crash, kill or Ctrl-C), cut a torn last line, extract only the "
                                         "missing notes.")] = False,
    id_col: Annotated[str, typer.Option("--id-col", help="Table column with the note id.")] = "note_id",
    text_col: Annotated[str, typer.Option("--text-col", help="Table column with the note text.")] = "text",
    date_col: Annotated[Optional[str], typer.Option("--date-col", help="Table column with the date of service "  # noqa: UP045
                                                    "(YYYY-MM-DD), optional.")] = None,
    max_bytes: Annotated[int, typer.Option("--max-bytes", help="Notes larger than this many bytes become error "
                                           "records.")] = 5_000_000,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress output and no summary.")] = False,
    glob: Annotated[str, typer.Option("--glob", help="Folder input: which file names are notes (matched against "
                                      "the relative path when the pattern holds a '/').")] = "*.txt",
    fmt: Annotated[Optional[str], typer.Option("--format", help="jsonl | csv | parquet: overrides the "  # noqa: UP045
                                               "extension of OUT.")] = None,
    html: Annotated[Optional[Path], typer.Option("--html", help="Also write the review view: DIR/index.html and "  # noqa: UP045
                                                "DIR/<note_id>.html per note.")] = None,
    progress: Annotated[str, typer.Option("--progress", help="auto (a bar on a terminal, a line every 10 s "
                                          "otherwise, nothing when CI=true) | bar | lines | none")] = "auto",
) -> None:
    """Extract every note of a folder or table (see the help text above and docs/batch.md)."""
    from .batch import run_batch

    code = run_batch(input=input, out=str(out), code_set=code_set, workers=workers, resume=resume, id_col=id_col,
                     text_col=text_col, date_col=date_col, max_bytes=max_bytes, quiet=quiet, glob=glob, fmt=fmt,
                     progress=progress, html=str(html) if html else None)
    raise typer.Exit(code)


@app.command()
def evaluate(
    gold_dirs: list[Path] = typer.Argument(..., help="Folders of NAME.txt + NAME.gold.json pairs."),
    show: bool = typer.Option(False, "--show", help="List every mismatch."),
    code_set: str = typer.Option("current", "--code-set"),
) -> None:
    """Score against gold notes: exact code sets, treated-level P/R/F1, per-field accuracy."""
    from .api import Extractor
    from .evaluate import Report, find_pairs, format_report, score_note
    from .text import decode_note

    pairs = find_pairs(gold_dirs)
    if not pairs:
        typer.echo("no NAME.txt + NAME.gold.json pairs found", err=True)
        raise typer.Exit(2)
    extractor = Extractor(code_set=code_set)
    items = [(name, decode_note(txt.read_bytes())[0]) for name, txt, _ in pairs]
    report = Report()
    for (name, _, gold_path), result in zip(pairs, extractor.pipe(items)):
        score_note(name, result, json.loads(gold_path.read_text(encoding="utf-8")), report)
    typer.echo(format_report(report, show=show))


@app.command()
def train(
    corpus_dir: Annotated[Path, typer.Argument(help="Corpus folder: its train/ sub-folder (or the folder itself) "
                                               "holds the NAME.txt + NAME.gold.json pairs to train on.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the model, its SHA-256 sidecar and "
                                      "MODEL_CARD.md.")] = Path("models"),
    test: Annotated[Optional[Path], typer.Option("--test", help="Held-out gold folder scored for the model "  # noqa: UP045
                                                 "card (default: CORPUS_DIR/test when it exists).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the folds and the solvers (training is "
                                      "deterministic).")] = 0,
) -> None:
    """Train the confidence model on the train split; write it with skops plus MODEL_CARD.md."""
    from .api import Extractor
    from .review.store import ModelError
    from .review.training import train as train_model

    train_dir = corpus_dir / "train" if (corpus_dir / "train").is_dir() else corpus_dir
    if train_dir.resolve().name in ("test", "devset", "holdout"):
        typer.echo(f"error: {train_dir} looks like an evaluation split; train on the train split only", err=True)
        raise typer.Exit(2)
    if test is None and (corpus_dir / "test").is_dir() and train_dir != corpus_dir:
        test = corpus_dir / "test"
    try:
        summary = train_model(train_dir, out, test_dir=test, seed=seed, rules=lambda items: Extractor().pipe(items),
                              say=lambda m: typer.echo(m, err=True))
    except (ValueError, ModelError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    typer.echo(f"model: {summary['model']} (sha256 {summary['sha256'][:16]}...)")
    typer.echo(f"review threshold: {summary['threshold']}")
    for name in ("train", "test"):
        m = summary.get(name)
        if m and "notes" in m:
            label = "train (out-of-fold)" if name == "train" else f"test ({test})"
            typer.echo(f"{label}: automation {m['automated']}/{m['notes']}, exact among them "
                       f"{m['automated_right']}/{m['automated']}")
    typer.echo(f"model card: {out / 'MODEL_CARD.md'}")


def main() -> None:  # console script entry point
    app()
