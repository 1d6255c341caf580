#!/usr/bin/env python
"""Throughput benchmark for spinecode (issue 6). Not a test: CI does not run it and nothing gates on it.

One process runs, interleaved (A B C D, A B C D, … the best round per mode is kept):

  tokenizer   spaCy's bare tokenizer: spacy.blank("en").pipe(texts)
  stock       stock medspaCy: medspacy.load() (PyRuSH + TargetMatcher + ConText) with spinecode's target
              rules (patterns/targets.json) added; on a subset (--stock-notes), it is slow
  spinecode1  Extractor().pipe(items, n_process=1): full extraction + coding + the JSON record
  spinecode2  Extractor().pipe(items, n_process=2): the same with a fork pool of two workers

on corpora/train/*.txt + corpora/test/*.txt repeated to --notes notes, and prints notes/s, words/s, the
process's peak RSS and the ratios the issue asks for. Then it times `spinecode extract NOTE` as a whole
process (median of --cli-runs) next to `python -c "import spacy"` and `python -c "import medspacy"`.

Optional: --stages (time every pipeline component and every post-processing step per note),
--profile FILE (pyinstrument over spinecode1), --importtime (top imports of the CLI path),
--json FILE (all numbers, machine-readable). See benchmarks/README.md.

Note text is never printed (PyRuSH's loguru logger, which logs it, is disabled).
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPORA = [ROOT / "corpora" / "train", ROOT / "corpora" / "test"]
TARGETS_JSON = ROOT / "patterns" / "targets.json"

GOAL_VS_STOCK = 20.0  # spinecode (1 worker) ≥ 20 × stock medspaCy
GOAL_VS_TOKENIZER = 0.6  # spinecode (1 worker) ≥ 0.6 × bare tokenizer
GOAL_TWO_WORKERS = 1.7  # 2 workers ≥ 1.7 × 1 worker
GOAL_CLI_OVERHEAD_S = 0.3  # one-note CLI ≤ `import spacy` + a few hundred ms

ALL_MODES = ("tokenizer", "stock", "spinecode1", "spinecode2")
LABELS = {
    "tokenizer": "bare tokenizer (spacy.blank)",
    "stock": "stock medspaCy + our targets",
    "spinecode1": "spinecode, 1 worker",
    "spinecode2": "spinecode, 2 workers",
}


# ----------------------------------------------------------------------------------------------- helpers


def load_corpus() -> list[tuple[str, str]]:
    notes = []
    for folder in CORPORA:
        for path in sorted(folder.glob("*.txt")):
            notes.append((path.stem, path.read_text(encoding="utf-8")))
    if not notes:
        sys.exit(f"no notes found in {', '.join(str(c) for c in CORPORA)}")
    return notes


def repeat_to(notes: list[tuple[str, str]], n: int) -> list[tuple[str, str]]:
    """The corpus repeated (cyclically) to exactly n notes, with unique note ids."""
    return [(f"{notes[k % len(notes)][0]}#{k // len(notes)}", notes[k % len(notes)][1]) for k in range(n)]


def peak_rss_mb() -> tuple[float, float]:
    """(this process, largest waited-for child) peak resident set size in MB (ru_maxrss is KB on Linux)."""
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / scale,
    )


def cpu_seconds() -> float:
    """User + system CPU of this process and its reaped children (pool workers are reaped when the pool closes)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def current_rss_mb() -> float | None:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)
    except (OSError, ValueError):
        return None


def load_average() -> str:
    try:
        return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def git_state() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "extractor", "patterns"], capture_output=True,
                               text=True, cwd=ROOT, check=False).stdout.strip()
        return head + (" + uncommitted changes in extractor/ or patterns/" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def fmt_int(x: float) -> str:
    return f"{x:,.0f}"


# ----------------------------------------------------------------------------------------------- runners


class Mode:
    """One thing to time: build() once (timed separately), run(items) per round."""

    name = ""

    def build(self) -> None: ...

    def run(self, items: list[tuple[str, str]]) -> object: ...


class Tokenizer(Mode):
    name = "tokenizer"

    def build(self) -> None:
        import spacy

        self.nlp = spacy.blank("en")

    def run(self, items):
        n = 0
        for doc in self.nlp.pipe((text for _, text in items), batch_size=32):
            n += len(doc)
        return n


class Stock(Mode):
    name = "stock"

    def build(self) -> None:
        from loguru import logger

        logger.disable("PyRuSH")  # PyRuSH logs note text at DEBUG
        import medspacy
        from medspacy.target_matcher import TargetRule

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.nlp = medspacy.load()  # medspacy_pyrush, medspacy_target_matcher, medspacy_context
            # medspaCy 1.3.1's rules= config of the target matcher is broken: add the rules afterwards
            self.nlp.get_pipe("medspacy_target_matcher").add(TargetRule.from_json(str(TARGETS_JSON)))
        self.pipe_names = list(self.nlp.pipe_names)

    def run(self, items):
        n = 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "conflicts with a pre-existing entity" RuntimeWarnings
            for doc in self.nlp.pipe((text for _, text in items), batch_size=32):
                n += len(doc.ents)
        return n

    def check_n_process(self, items) -> str:
        """Does stock medspaCy's nlp.pipe(n_process=2) work? (spaCy E871 in 1.3.1: Doc.to_bytes fails.)"""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                list(self.nlp.pipe((text for _, text in items), n_process=2, batch_size=4))
            return "works"
        except Exception as exc:  # noqa: BLE001
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            return f"fails: {type(exc).__name__} {first[:80]}"


class Spinecode(Mode):
    def __init__(self, workers: int):
        self.workers = workers
        self.name = f"spinecode{workers}"

    def build(self) -> None:
        from extractor import Extractor

        self.extractor = Extractor()

    def run(self, items):
        """Full extraction + coding + the JSON record per note (what `spinecode batch` writes)."""
        return [json.dumps(r.to_dict(), ensure_ascii=False) for r in self.extractor.pipe(items, n_process=self.workers)]


# ----------------------------------------------------------------------------------------------- throughput


def time_modes(modes: dict[str, Mode], items, stock_items, rounds: int, words: dict[int, int]) -> dict:
    results: dict[str, dict] = {}
    outputs: dict[str, object] = {}
    best_cpu: dict[str, float] = {}
    for r in range(rounds):
        for name, mode in modes.items():
            batch = stock_items if name == "stock" else items
            gc.collect()
            before = current_rss_mb()
            c0 = cpu_seconds()
            t0 = time.perf_counter()
            out = mode.run(batch)
            dt = time.perf_counter() - t0
            cpu = cpu_seconds() - c0
            self_peak, child_peak = peak_rss_mb()
            rate = len(batch) / dt
            print(f"  round {r + 1}  {name:<11} {len(batch):>6} notes  {dt:7.2f} s  {rate:9.1f} notes/s  "
                  f"(CPU {1e3 * cpu / len(batch):6.2f} ms/note)", flush=True)
            cpu_ms = 1e3 * cpu / len(batch)
            best_cpu[name] = min(best_cpu.get(name, cpu_ms), cpu_ms)
            best = results.get(name)
            if best is None or rate > best["notes_per_s"]:
                results[name] = {
                    "notes": len(batch),
                    "seconds": dt,
                    "notes_per_s": rate,
                    "words_per_s": words[id(batch)] / dt,
                    "cpu_ms_per_note": 1e3 * cpu / len(batch),
                    "rss_before_mb": before,
                    # high-water marks after this mode's first round (they never go down afterwards)
                    "peak_rss_self_mb": best["peak_rss_self_mb"] if best else self_peak,
                    "peak_rss_children_mb": best["peak_rss_children_mb"] if best else child_peak,
                }
            if name.startswith("spinecode"):
                outputs[name] = out
    for name, cpu_ms in best_cpu.items():
        results[name]["cpu_ms_per_note"] = cpu_ms  # the least disturbed round's CPU time (min over rounds)
    if "spinecode1" in outputs and "spinecode2" in outputs and outputs["spinecode1"] != outputs["spinecode2"]:
        print("  WARNING: spinecode's records differ between 1 and 2 workers", flush=True)
    for name, out in outputs.items():
        errors = sum('"error": {' in rec for rec in out)  # type: ignore[union-attr]
        if errors:
            print(f"  note: {name} produced {errors} error records", flush=True)
    return results


def print_table(results: dict, builds: dict[str, float]) -> dict:
    print()
    head = f"{'mode':<32} {'notes':>6} {'notes/s':>9} {'words/s':>10} {'× stock':>8} {'× tokenizer':>11} " \
           f"{'CPU ms/note':>11} {'peak RSS MB':>12} {'build s':>8}"
    print(head)
    print("-" * len(head))
    stock = results.get("stock", {}).get("notes_per_s")
    tok = results.get("tokenizer", {}).get("notes_per_s")
    for name in ALL_MODES:
        if name not in results:
            continue
        r = results[name]
        vs_stock = f"{r['notes_per_s'] / stock:.1f}" if stock else "-"
        vs_tok = f"{r['notes_per_s'] / tok:.2f}" if tok else "-"
        rss = f"{r['peak_rss_self_mb']:.0f}"
        if name == "spinecode2":
            rss += f" +{r['peak_rss_children_mb']:.0f}/w"
        print(f"{LABELS[name]:<32} {r['notes']:>6} {r['notes_per_s']:>9.1f} {fmt_int(r['words_per_s']):>10} "
              f"{vs_stock:>8} {vs_tok:>11} {r['cpu_ms_per_note']:>11.2f} {rss:>12} {builds.get(name, 0):>8.2f}")
    print("(peak RSS: this process's high-water mark after the mode's first round, so it only grows down the table; "
          "'+N/w' = the largest worker's peak. CPU ms/note: user+system CPU of this process and its workers per "
          "note, lowest over the rounds; other load on the machine moves it much less than notes/s)")

    ratios: dict[str, float] = {}
    one = results.get("spinecode1", {}).get("notes_per_s")
    two = results.get("spinecode2", {}).get("notes_per_s")
    print()
    checks = []
    if one and stock:
        ratios["spinecode1_vs_stock"] = one / stock
        checks.append(("spinecode (1 worker) / stock medspaCy", one / stock, GOAL_VS_STOCK))
    if one and tok:
        ratios["spinecode1_vs_tokenizer"] = one / tok
        checks.append(("spinecode (1 worker) / bare tokenizer", one / tok, GOAL_VS_TOKENIZER))
    if one and two:
        ratios["spinecode2_vs_spinecode1"] = two / one
        checks.append(("spinecode 2 workers / 1 worker", two / one, GOAL_TWO_WORKERS))
    if two and stock:
        ratios["spinecode2_vs_stock"] = two / stock
    if two and tok:
        ratios["spinecode2_vs_tokenizer"] = two / tok
    for label, value, goal in checks:
        mark = "meets" if value >= goal else "BELOW"
        print(f"{label:<40} {value:7.2f}×   goal ≥ {goal:g}×   {mark}")
    # the same single-process ratios from CPU time, which a busy machine disturbs much less than wall time
    cpu = {name: r["cpu_ms_per_note"] for name, r in results.items()}
    if "spinecode1" in cpu:
        for other, goal in (("stock", GOAL_VS_STOCK), ("tokenizer", GOAL_VS_TOKENIZER)):
            if other in cpu:
                value = cpu[other] / cpu["spinecode1"]
                ratios[f"spinecode1_vs_{other}_cpu"] = value
                label = f"same, by CPU ms/note: spinecode / {other}"
                print(f"{label:<40} {value:7.2f}×   goal ≥ {goal:g}×   {'meets' if value >= goal else 'BELOW'}")
    return ratios


# ----------------------------------------------------------------------------------------------- whole-process CLI


def median_wall(cmd: list[str], runs: int, stdin: bytes | None = None) -> tuple[float, int]:
    times, code = [], 0
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                              cwd=ROOT, check=False)
        times.append(time.perf_counter() - t0)
        code = proc.returncode
    return statistics.median(times), code


def spinecode_command() -> list[str]:
    script = Path(sys.executable).with_name("spinecode")
    return [str(script)] if script.exists() else [sys.executable, "-m", "extractor"]


def time_cli(runs: int, note: Path) -> dict:
    py = sys.executable
    rows = [
        ("python -c pass", [py, "-c", "pass"]),
        ('python -c "import spacy"', [py, "-c", "import spacy"]),
        ('python -c "import medspacy"', [py, "-c", "import medspacy"]),
        ("spinecode --version", spinecode_command() + ["--version"]),
        (f"spinecode extract {note.name}", spinecode_command() + ["extract", str(note)]),
    ]
    print(f"\nwhole process, median of {runs} runs:")
    out = {}
    for label, cmd in rows:
        median_wall(cmd, 1)  # warm the file cache
        t, code = median_wall(cmd, runs)
        out[label] = t
        print(f"  {label:<40} {t:6.2f} s" + (f"   (exit {code})" if code else ""))
    extract = out[rows[-1][0]]
    spacy_t = out[rows[1][0]]
    overhead = extract - spacy_t
    mark = "meets" if overhead <= GOAL_CLI_OVERHEAD_S else "ABOVE"
    print(f"  spinecode extract − import spacy        {overhead:6.2f} s   goal ≤ ~{GOAL_CLI_OVERHEAD_S:g} s   {mark}")
    out["extract_minus_import_spacy"] = overhead
    out["phases"] = one_note_phases(runs, note)
    return out


PHASES_CODE = """
import json, sys, time
t0 = time.perf_counter()
import spacy
t1 = time.perf_counter()
import extractor.cli, extractor.api
t2 = time.perf_counter()
ex = extractor.api.Extractor()
t3 = time.perf_counter()
text = open(sys.argv[1], encoding="utf-8").read()
ex.extract(text, note_id="n")
t4 = time.perf_counter()
ex.extract(text, note_id="n")
t5 = time.perf_counter()
heavy = [m for m in ("sklearn", "scipy", "skops", "nltk", "quickumls", "pandas", "pyarrow") if m in sys.modules]
print(json.dumps({"import spacy": t1 - t0, "import extractor.cli + api": t2 - t1,
                  "Extractor() (pipeline build)": t3 - t2, "first extract (incl. lazy loads)": t4 - t3,
                  "second extract": t5 - t4, "heavy modules loaded": heavy}))
"""


def one_note_phases(runs: int, note: Path) -> dict:
    """Where the one-note CLI's time goes, inside one process (median of runs)."""
    samples = []
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-c", PHASES_CODE, str(note)], capture_output=True, text=True,
                              cwd=ROOT, check=False, env=dict(os.environ, PYTHONWARNINGS="ignore"))
        try:
            samples.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        except (ValueError, IndexError):
            print("  (one-note phases unavailable: the probe failed)")
            return {}
    phases = {k: statistics.median(s[k] for s in samples) for k in samples[0] if k != "heavy modules loaded"}
    print("  one note inside one process (median):")
    for k, v in phases.items():
        print(f"    {k:<38} {v:6.3f} s")
    heavy = samples[0]["heavy modules loaded"]
    print(f"    heavy modules loaded by then: {', '.join(heavy) or 'none'}")
    return {**phases, "heavy modules loaded": heavy}


def import_time(note: Path, top: int = 20) -> list[tuple[float, str]]:
    """`python -X importtime` of one note's extraction as the CLI does it; the slowest imports (cumulative)."""
    code = ("import sys, extractor.cli, extractor.api; "
            "extractor.api.Extractor().extract(open(sys.argv[1], encoding='utf-8').read())")
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code, str(note)], capture_output=True,
                          text=True, cwd=ROOT, check=False)
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        try:
            _self_us, cumulative_us, name = line[len("import time:"):].split("|", 2)
            rows.append((int(cumulative_us) / 1e6, name.rstrip()))
        except ValueError:
            continue
    top_level = sorted(rows, reverse=True)[:top]
    print(f"\nimport time of one note's extraction (python -X importtime, cumulative, top {top}):")
    for secs, name in top_level:
        print(f"  {secs:6.3f} s  {name}")
    return top_level


# ----------------------------------------------------------------------------------------------- stages / profile


def stage_breakdown(items, nlp=None, quiet: bool = False) -> dict | None:
    """Per-note CPU ms of each pipeline component and each post-processing step of Extractor.extract.

    The components are called one by one; the post-processing is Extractor._from_doc itself, with the
    functions it calls (mentions.doc_to_sentences, api.assemble, api.assign_codes, api.score) wrapped by
    timers, so this follows extractor/api.py as it changes; whatever is not wrapped lands in "post, other".
    nlp: a pipeline to use instead of the process-wide one (the --what-if experiments pass patched ones).
    """
    from extractor import api, mentions
    from extractor.text import normalize

    pc = time.process_time  # CPU time of this process: other processes on a busy machine barely move it
    ex = api.Extractor()
    if nlp is not None:
        ex.nlp = nlp
    nlp = ex.nlp
    acc: dict[str, float] = {"tokenizer": 0.0}
    for name, _ in nlp.pipeline:
        acc[name] = 0.0
    wrapped: list[tuple[object, str, object]] = []

    def wrap(module, attr: str, label: str) -> None:
        fn = getattr(module, attr, None)
        if fn is None:
            return
        acc[label] = 0.0

        def timed(*args, **kwargs):
            t = pc()
            try:
                return fn(*args, **kwargs)
            finally:
                acc[label] += pc() - t

        setattr(module, attr, timed)
        wrapped.append((module, attr, fn))

    wrap(mentions, "doc_to_sentences", "mentions")
    wrap(api, "assemble", "assemble")
    wrap(api, "assign_codes", "coding")
    wrap(api, "score", "confidence (+ model)")
    post = 0.0
    acc["post, other"] = acc["to_dict"] = acc["json"] = 0.0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ex.extract(items[0][1], note_id=items[0][0])  # one-off loads (e.g. a model) stay out of the numbers
            for key in acc:
                acc[key] = 0.0
            for k, (note_id, text) in enumerate(items):
                t = pc()
                doc = nlp.make_doc(normalize(text))
                acc["tokenizer"] += pc() - t
                for name, proc in nlp.pipeline:
                    t = pc()
                    doc = proc(doc)
                    acc[name] += pc() - t
                t = pc()
                result = ex._from_doc(doc, text, note_id, None)
                post += pc() - t
                t = pc()
                record = result.to_dict()
                t2 = pc()
                line = json.dumps(record, ensure_ascii=False)
                acc["to_dict"] += t2 - t
                acc["json"] += pc() - t2
                if k == 0 and line != json.dumps(ex.extract(text, note_id=note_id).to_dict(), ensure_ascii=False):
                    print("  WARNING: the stage breakdown no longer mirrors Extractor.extract "
                          "(update stage_breakdown in benchmarks/throughput.py)")
    except Exception as exc:  # noqa: BLE001
        print(f"\nstage breakdown unavailable ({type(exc).__name__}: {exc}); extractor internals changed?")
        return None
    finally:
        for module, attr, fn in wrapped:
            setattr(module, attr, fn)
    inner = sum(v for key, v in acc.items() if key in ("mentions", "assemble", "coding", "confidence (+ model)"))
    acc["post, other"] = max(0.0, post - inner)
    total = sum(acc.values())
    n = len(items)
    if not quiet:
        print(f"\nper-note CPU time by stage ({n} notes, one note at a time; total {1e3 * total / n:.1f} ms/note "
              f"= {n / total:.1f} notes per CPU-second):")
        for name, secs in acc.items():
            print(f"  {name:<24} {1e3 * secs / n:7.2f} ms  {100 * secs / total:5.1f} %")
    return {name: 1e3 * secs / n for name, secs in acc.items()}


# ----------------------------------------------------------------------------------------------- what-if


def what_if(items, repeats: int = 3) -> list[dict]:
    """Measure candidate optimisations by monkeypatching medspaCy / spinecode *in this process only*.

    Nothing on disk changes. Each step is cumulative and its records are compared with the unpatched
    pipeline's on the same notes ("identical" = every JSON record equal). A step that the code already
    does, or whose patch no longer applies (the code it targets changed), is reported and skipped. The
    regex steps work on the compiled patterns the matchers hold (`RegexMatcher._patterns`), so they apply
    to medspaCy's RegexMatcher and to any subclass spinecode installs. These are estimates for the owners
    of extractor/ and patterns/, not a supported configuration.
    """
    import inspect
    import re
    import tempfile
    import textwrap

    import numpy as np

    from extractor.pipeline import get_pipeline

    get_pipeline()  # imports medspaCy the way spinecode does (without QuickUMLS) before we reach into it
    from medspacy.common import medspacy_matcher as mm
    from medspacy.common import regex_matcher as rx
    from medspacy.common.util import get_token_for_char
    from medspacy.target_matcher import target_matcher as tm
    from spacy.attrs import SENT_START
    from spacy.tokens import Span

    from extractor import pipeline as pipeline_mod
    from extractor.api import Extractor
    from extractor.components import sentences as sentences_mod

    def records(nlp) -> list[str]:
        ex = Extractor()
        ex.nlp = nlp
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [json.dumps(r.to_dict(), ensure_ascii=False) for r in ex.pipe(items)]

    def regex_matchers(nlp) -> dict[str, object]:
        """component name -> the RegexMatcher inside it (found by walking attributes a few levels deep)."""
        found: dict[str, object] = {}

        def walk(obj, name: str, depth: int) -> None:
            if isinstance(getattr(obj, "_patterns", None), dict) and hasattr(obj, "resolve_start"):
                found[name] = obj
                return
            if depth == 0 or not hasattr(obj, "__dict__"):
                return
            for value in vars(obj).values():
                if hasattr(value, "__dict__") and value.__class__.__module__.split(".")[0] in ("medspacy", "extractor"):
                    walk(value, name, depth - 1)

        for name, component in nlp.pipeline:
            walk(component, name, 3)
        return found

    # -- step: doc.text once per matcher call (only if the stock matcher is in use)
    def text_once(self, doc):
        text = doc.text
        matches = []
        for match_id, patterns in self._patterns.items():
            on_match = self._callbacks[match_id]
            for pattern in patterns:
                for m in pattern.finditer(text):
                    span = doc.char_span(m.start(), m.end())
                    if span is None:
                        start = get_token_for_char(doc, m.start(), resolve=self.resolve_start)
                        end = get_token_for_char(doc, m.end(), resolve=self.resolve_end)
                        span = doc[start.i: len(doc) if end is None else end.i]
                    if len(span):
                        matches.append((match_id, span.start, span.end))
                    if on_match is not None:
                        on_match(self, doc, len(matches) - 1, matches)
        return matches

    def patch_text_once():
        if mm.RegexMatcher is not rx.RegexMatcher:
            return f"already in the code ({mm.RegexMatcher.__name__})"
        rx.RegexMatcher.__call__ = text_once
        return True

    # -- step: doc.ents set once (only if the targets component lets TargetMatcher add entities one by one)
    original_target_call = tm.TargetMatcher.__call__

    def ents_once(self, doc):
        if not self.result_type or self.result_type.lower() != "ents":
            return original_target_call(self, doc)
        matcher = self._TargetMatcher__matcher
        ents, taken = list(doc.ents), bytearray(len(doc))
        for e in ents:
            taken[e.start:e.end] = b"\x01" * (e.end - e.start)
        for rule_id, start, end in matcher(doc):
            if any(taken[start:end]):  # the original skips a span that overlaps an entity (ValueError)
                continue
            rule = matcher.rule_map[self.nlp.vocab.strings[rule_id]]
            span = Span(doc, start=start, end=end, label=rule.category)
            span._.target_rule = rule
            for attribute, value in (rule.attributes or {}).items():
                setattr(span._, attribute, value)
            taken[start:end] = b"\x01" * (end - start)
            ents.append(span)
        doc.ents = ents
        return doc

    def patch_ents_once():
        nlp = get_pipeline()
        uses_ents = [c for _, c in nlp.pipeline if isinstance(c, tm.TargetMatcher) and c.result_type == "ents"]
        uses_ents += [c for _, c in nlp.pipeline
                      if isinstance(getattr(c, "matcher", None), tm.TargetMatcher) and c.matcher.result_type == "ents"]
        if not uses_ents:
            return "already in the code (no TargetMatcher with result_type='ents')"
        tm.TargetMatcher.__call__ = ents_once
        return True

    # -- step: re.ASCII (recompile what the matchers hold)
    def ascii_flags(nlp) -> bool:
        for matcher in regex_matchers(nlp).values():
            matcher._patterns = {mid: [re.compile(p.pattern, (p.flags & ~re.UNICODE) | re.ASCII) for p in pats]
                                 for mid, pats in matcher._patterns.items()}
        return bool(regex_matchers(nlp))

    # -- source-level patches of spinecode functions (read now, and only if the source is the loaded code)
    def loaded_source(func) -> str:
        try:
            src = textwrap.dedent(inspect.getsource(func))
            probe: dict = dict(func.__globals__)
            exec(compile(src, "<probe>", "exec"), probe)  # noqa: S102
            return src if probe[func.__name__].__code__.co_code == func.__code__.co_code else ""
        except (OSError, TypeError, SyntaxError, KeyError):
            return ""

    def patch_source(owner, func, src: str, old: str, new: str, extra: dict):
        if not src or old not in src:
            return "patch no longer applies (the code changed)"
        namespace = {**func.__globals__, **extra}
        exec(compile(src.replace(old, new), inspect.getsourcefile(func) or "<patched>", "exec"), namespace)  # noqa: S102
        setattr(owner, func.__name__, namespace[func.__name__])
        return True

    # -- step: sentence starts with one Doc.from_array
    sentences_call = sentences_mod.ClinicalSentences.__call__
    sentences_src = loaded_source(sentences_call)

    def _doc_from_array_sent_start(doc, starts):
        arr = np.where(np.asarray(starts, dtype=bool), 1, -1).astype(np.int64).view(np.uint64)
        doc.from_array([SENT_START], arr.reshape(-1, 1))

    def sent_starts_from_array():
        return patch_source(sentences_mod.ClinicalSentences, sentences_call, sentences_src,
                            "for i, tok in enumerate(doc):\n        tok.is_sent_start = starts[i]",
                            "_doc_from_array_sent_start(doc, starts)",
                            {"_doc_from_array_sent_start": _doc_from_array_sent_start})

    # -- step: the confidence model's word cues, memoised per word instead of every cue regex on every word
    try:
        from extractor import model as model_mod

        cues_func = model_mod._cues
        cues_src = loaded_source(cues_func)
    except (ImportError, AttributeError):
        model_mod, cues_func, cues_src = None, None, ""

    def memo_cues():
        if model_mod is None:
            return "patch no longer applies (no extractor.model._cues)"
        cue_names = functools.lru_cache(maxsize=65536)(
            lambda w: tuple(name for name, pat in model_mod.CUES.items() if pat.match(w)))
        return patch_source(model_mod, cues_func, cues_src,
                            "found = [name for name, pat in CUES.items() if pat.match(w)]",
                            "found = list(_bench_cue_names(w))", {"_bench_cue_names": cue_names})

    # -- pattern stand-ins: whatever matcher is in use calls pattern.finditer(text)
    class RangedPattern:
        """A compiled pattern that only searches the character ranges `shared["ranges"]` holds."""

        def __init__(self, pattern, shared):
            self.inner, self.shared = pattern, shared
            self.pattern, self.flags = pattern.pattern, pattern.flags

        def finditer(self, text, *args):
            for a, b in self.shared["ranges"]:
                yield from self.inner.finditer(text, a, b)

    class GatedMatcher:
        """ConText's MedspacyMatcher, run only inside sentences that hold a target (an entity)."""

        def __init__(self, inner, shared):
            self.inner, self.shared = inner, shared

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def __call__(self, doc):
            sent_starts = {ent.sent.start for ent in doc.ents}
            keep = bytearray(len(doc))
            ranges = []
            for sent in doc.sents:
                if sent.start in sent_starts:
                    keep[sent.start:sent.end] = b"\x01" * (sent.end - sent.start)
                    ranges.append((sent.start_char, sent.end_char))
            self.shared["ranges"] = ranges
            return [m for m in self.inner(doc) if keep[m[1]]]

    def gate_context(nlp) -> bool:
        try:
            context = nlp.get_pipe("medspacy_context")
            regex = regex_matchers(nlp)["medspacy_context"]
            shared: dict = {"ranges": []}
            regex._patterns = {mid: [RangedPattern(p, shared) for p in pats] for mid, pats in regex._patterns.items()}
            context._ConText__matcher = GatedMatcher(context._ConText__matcher, shared)
        except (KeyError, AttributeError):
            return False
        return True

    def leading_group(src: str) -> str:
        """'(?m)(?:...)' at the start of a pattern (inline flags + first group), or ''."""
        k = 4 if src.startswith("(?m)") else 0
        if src[k:k + 1] != "(":
            return ""
        depth, i, in_class = 0, k, False
        while i < len(src):
            c = src[i]
            if c == "\\":
                i += 2
                continue
            if in_class:
                in_class = c != "]"
            elif c == "[":
                in_class = True
            elif c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0:
                    return src[: i + 1]
            i += 1
        return ""

    class CandidateScan:
        """One zero-width scan for the positions where any rule of a group (sharing a prefix) matches."""

        def __init__(self, finder):
            self.finder, self.text, self.positions = finder, None, []

        def at(self, text):
            if text is not self.text and text != self.text:
                self.text, self.positions = text, [m.start() for m in self.finder.finditer(text)]
            return self.positions

    class CandidatePattern:
        """One rule of a group: tried only where the group's scan found a candidate, non-overlapping like
        its own finditer, so the matches are the same."""

        def __init__(self, pattern, scan):
            self.inner, self.scan = pattern, scan
            self.pattern, self.flags = pattern.pattern, pattern.flags

        def finditer(self, text, *args):
            last_end = -1
            for pos in self.scan.at(text):
                if pos < last_end:
                    continue
                m = self.inner.match(text, pos)
                if m is not None:
                    last_end = max(m.end(), pos + 1)
                    yield m

    def combine_sections(nlp) -> bool:
        try:
            regex = regex_matchers(nlp)["medspacy_sectionizer"]
        except KeyError:
            return False
        groups: dict[str, list] = {}
        for patterns in regex._patterns.values():
            for p in patterns:
                groups.setdefault(leading_group(p.pattern), []).append(p)
        scans = {}
        for prefix, members in groups.items():
            if prefix and len(prefix) >= 30 and len(members) >= 3:
                body = "|".join(f"(?:{p.pattern[len(prefix):]})" for p in members)
                scans[prefix] = CandidateScan(re.compile(f"{prefix}(?=(?:{body}))", members[0].flags))
        if not scans:
            return False
        regex._patterns = {mid: [CandidatePattern(p, scans[leading_group(p.pattern)])
                                 if leading_group(p.pattern) in scans else p for p in pats]
                           for mid, pats in regex._patterns.items()}
        return True

    # every step builds a new pipeline from the rule files: read them from a snapshot taken now, so that
    # edits to patterns/ made while this runs cannot make two steps differ
    snapshot = Path(tempfile.mkdtemp(prefix="spinecode-bench-"))
    for name in pipeline_mod.PATTERN_FILES:
        (snapshot / pipeline_mod.PATTERN_FILES[name]).write_bytes(pipeline_mod.pattern_path(name).read_bytes())
    original_pattern_path = pipeline_mod.pattern_path
    pipeline_mod.pattern_path = lambda name: snapshot / pipeline_mod.PATTERN_FILES[name]
    saved = (rx.RegexMatcher.__call__, tm.TargetMatcher.__call__, sentences_mod.ClinicalSentences.__call__)
    saved_cues = cues_func

    steps = [  # (label, patch applied before building, patch applied to each built pipeline)
        ("baseline (as built today)", None, None),
        ("+ RegexMatcher builds doc.text once per call, not once per rule", patch_text_once, None),
        ("+ TargetMatcher sets doc.ents once, not once per match", patch_ents_once, None),
        ("+ re.ASCII on every regex rule", None, ascii_flags),
        ("+ sentence starts with one Doc.from_array, not per-token setter", sent_starts_from_array, None),
        ("+ ConText only in sentences that hold a target", None, gate_context),
        ("+ section headings sharing a prefix: one candidate scan, rules tried there", None, combine_sections),
        ("+ confidence model: word cues memoised per word (lru_cache)", memo_cues, None),
    ]
    post_hooks: list = []
    out: list[dict] = []
    reference: list[str] | None = None
    print(f"\nwhat-if (cumulative, in-process monkeypatches; {len(items)} notes one at a time, best of {repeats}; "
          f"'normalised' scales each step by the baseline's tokenizer time over its own; × is on that):")
    try:
        for label, apply, post in steps:
            if apply is not None:
                applied = apply()
                if applied is not True:
                    print(f"  {label}: {applied or 'patch no longer applies'}, skipped")
                    continue
            nlp = build_pipeline_fresh()
            for hook in post_hooks:
                hook(nlp)
            if post is not None:
                if not post(nlp):
                    print(f"  {label}: patch no longer applies, skipped")
                    continue
                post_hooks.append(post)
            recs = records(nlp)
            same = "-" if reference is None else ("identical" if recs == reference else
                                                  f"DIFFERENT in {sum(a != b for a, b in zip(recs, reference))}")
            reference = reference or recs
            runs = [stage_breakdown(items, nlp=nlp, quiet=True) or {} for _ in range(repeats)]
            stages = min(runs, key=lambda st: sum(st.values()))  # the least disturbed run
            total = sum(stages.values())
            # the tokenizer's work is the same in every step: its CPU time shows how much a busy machine
            # slowed this step down (shared caches, clock), and the normalised total corrects for that
            tok = stages.get("tokenizer") or 1.0
            base_tok = out[0]["stages"].get("tokenizer", tok) if out else tok
            normalised = total * base_tok / tok
            base = out[0]["normalised_ms_per_note"] if out else normalised
            short = {k.replace("medspacy_", "").replace("spinecode_", ""): round(v, 2) for k, v in stages.items()}
            out.append({"step": label, "ms_per_note": total, "normalised_ms_per_note": normalised, "records": same,
                        "stages": short})
            print(f"  {label:<74} {total:6.1f} CPU ms/note ({normalised:5.1f} normalised)  ×{base / normalised:4.2f}"
                  f"  records {same}")
            print("      " + "  ".join(f"{k} {v:.1f}" for k, v in short.items() if v >= 0.1))
    finally:
        rx.RegexMatcher.__call__, tm.TargetMatcher.__call__, sentences_mod.ClinicalSentences.__call__ = saved
        if model_mod is not None:
            model_mod._cues = saved_cues
        pipeline_mod.pattern_path = original_pattern_path
        for path in snapshot.iterdir():
            path.unlink()
        snapshot.rmdir()
    return out


def build_pipeline_fresh():
    from extractor.pipeline import build_pipeline

    return build_pipeline()


def profile(items, path: Path) -> None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("\n--profile needs pyinstrument: .venv/bin/pip install pyinstrument (or use py-spy, see README)")
        return
    mode = Spinecode(1)
    mode.build()
    profiler = Profiler(interval=0.001)
    profiler.start()
    mode.run(items)
    profiler.stop()
    if path.suffix == ".html":
        path.write_text(profiler.output_html(), encoding="utf-8")
    else:
        path.write_text(profiler.output_text(unicode=True, color=False), encoding="utf-8")
    print(f"\npyinstrument profile of spinecode (1 worker, {len(items)} notes) written to {path}")


# ----------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--notes", type=int, default=1000, help="notes per timed run (corpus repeated); default 1000")
    ap.add_argument("--stock-notes", type=int, default=200,
                    help="notes for the slow stock-medspaCy run (a subset); default 200")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved rounds; the best per mode is kept; default 2")
    ap.add_argument("--cli-runs", type=int, default=5, help="whole-process runs per command (median); default 5")
    ap.add_argument("--modes", default=",".join(ALL_MODES),
                    help=f"comma-separated subset of {','.join(ALL_MODES)}")
    ap.add_argument("--quick", action="store_true",
                    help="a fast smoke run: 200 notes, 50 stock notes, 1 round, 3 CLI runs")
    ap.add_argument("--no-cli", action="store_true", help="skip the whole-process CLI timing")
    ap.add_argument("--stages", nargs="?", type=int, const=300, default=0, metavar="N",
                    help="also time each component / step per note over N notes (default 300)")
    ap.add_argument("--profile", type=Path, metavar="FILE",
                    help="also profile spinecode (1 worker, 300 notes) with pyinstrument into FILE (.html or .txt)")
    ap.add_argument("--importtime", action="store_true", help="also list the slowest imports of the CLI path")
    ap.add_argument("--what-if", nargs="?", type=int, const=200, default=0, metavar="N", dest="what_if",
                    help="also measure candidate optimisations (in-process monkeypatches) over N notes (default 200)")
    ap.add_argument("--json", type=Path, metavar="FILE", help="write every number to FILE as JSON")
    args = ap.parse_args(argv)
    if args.quick:
        args.notes, args.stock_notes, args.rounds, args.cli_runs = 200, 50, 1, 3
    modes_wanted = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = set(modes_wanted) - set(ALL_MODES)
    if unknown:
        ap.error(f"unknown modes: {', '.join(sorted(unknown))}")

    corpus = load_corpus()
    items = repeat_to(corpus, args.notes)
    stock_items = items[: min(args.stock_notes, len(items))]
    words = {id(items): sum(len(t.split()) for _, t in items), id(stock_items): sum(len(t.split()) for _, t in stock_items)}
    print(f"spinecode throughput benchmark — Python {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs, {load_average()}")
    print(f"code: {git_state()}")
    if hasattr(os, "getloadavg") and os.getloadavg()[0] > 0.5 * (os.cpu_count() or 1):
        print("NOTE: the machine is busy; other processes skew the numbers (most of all the 2-worker run)")
    print(f"corpus: {len(corpus)} notes, {words[id(items)] / len(items):.0f} words/note on average; "
          f"timed runs: {len(items)} notes (stock medspaCy: {len(stock_items)}), {args.rounds} interleaved round(s)")

    modes: dict[str, Mode] = {}
    builds: dict[str, float] = {}
    # spinecode first, so its own medspaCy import path (without QuickUMLS) is the one exercised
    order = [m for m in ("spinecode1", "spinecode2", "tokenizer", "stock") if m in modes_wanted]
    for name in order:
        mode: Mode = Spinecode(int(name[-1])) if name.startswith("spinecode") else \
            (Tokenizer() if name == "tokenizer" else Stock())
        t0 = time.perf_counter()
        mode.build()
        builds[name] = time.perf_counter() - t0
        modes[name] = mode
    print("setup (in this process; imports counted by whichever mode imports first): "
          + ", ".join(f"{n} {builds[n]:.2f} s" for n in order))
    # warm-up: the first notes through a pipeline pay one-off costs (lexeme creation, regex caches)
    for name, mode in modes.items():
        if name != "spinecode2":
            mode.run(items[:10])
    stock_np = None
    if "stock" in modes:
        stock_np = modes["stock"].check_n_process(items[:8])  # type: ignore[attr-defined]
        print(f"stock medspaCy pipes: {', '.join(modes['stock'].pipe_names)}; "  # type: ignore[attr-defined]
              f"nlp.pipe(n_process=2) {stock_np}")

    ordered = {m: modes[m] for m in ALL_MODES if m in modes}
    print("timed runs:")
    results = time_modes(ordered, items, stock_items, args.rounds, words)
    ratios = print_table(results, builds)
    print(f"({load_average()} after the timed runs)")

    report: dict = {
        "python": platform.python_version(), "cpus": os.cpu_count(), "code": git_state(), "notes": len(items),
        "stock_notes": len(stock_items), "rounds": args.rounds, "results": results, "ratios": ratios,
        "build_seconds": builds, "stock_n_process_2": stock_np,
    }
    if not args.no_cli:
        report["cli"] = time_cli(args.cli_runs, min(CORPORA[0].glob("*.txt")))
    if args.importtime:
        report["importtime"] = import_time(min(CORPORA[0].glob("*.txt")))
    if args.stages:
        report["stages_ms_per_note"] = stage_breakdown(repeat_to(corpus, args.stages))
    if args.what_if:
        report["what_if"] = what_if(repeat_to(corpus, args.what_if))
    if args.profile:
        profile(repeat_to(corpus, 300), args.profile)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
        print(f"\nnumbers written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
