#!/usr/bin/env python
"""Throughput benchmark for spinecode (issue 6). Not a test: CI does not run it and nothing gates on it.

One process runs, interleaved (A B C D, A B C D, … the best round per mode is kept):

  regex       a plain `re` scan for procedure keywords (one compiled alternation, `search` per note)
  tokenizer   spaCy's bare tokenizer: spacy.blank("en").pipe(texts)
  stock       stock medspaCy: medspacy.load() (PyRuSH + TargetMatcher + ConText) with spinecode's target
              rules (patterns/targets.json) added; on a subset (--stock-notes), it is slow
  spinecode1  Extractor().pipe(items, n_process=1): full extraction + coding + the JSON record
  spinecode2  Extractor().pipe(items, n_process=2): the same with a fork pool of two workers

on corpora/train/*.txt + corpora/test/*.txt repeated to --notes notes, and prints notes/s, words/s, the
process's peak RSS and the ratios the issue asks for. Then it times `spinecode extract NOTE` as a whole
process (median of --cli-runs) next to `python -c "import spacy"` and `python -c "import medspacy"`.

--mixed reads a real mixed corpus instead (issue 13): the 4,955 notes of ../shared/mtsamples/notes.jsonl
(most of them about anything but the spine) plus the in-scope notes of corpora/ (gold codes or procedures),
each once, and compares spinecode with the regex scan (goal: 1 worker >= 0.5x). SPINECODE_GATE=0 turns the
relevance gate off (the "before" numbers of docs/performance.md).

Optional: --stages (time every pipeline component and every post-processing step per note),
--top N (cProfile's top functions by self time), --profile FILE (pyinstrument over spinecode1),
--importtime (top imports of the CLI path),
--json FILE (all numbers, machine-readable). See benchmarks/README.md.

Note text is never printed (PyRuSH's loguru logger, which logs it, is disabled).
"""

from __future__ import annotations

import argparse
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

GOAL_VS_STOCK = 20.0  # spinecode (1 worker) ≥ 20 × stock medspaCy
GOAL_VS_TOKENIZER = 0.6  # spinecode (1 worker) ≥ 0.6 × bare tokenizer
GOAL_TWO_WORKERS = 1.7  # 2 workers ≥ 1.7 × 1 worker
GOAL_CLI_OVERHEAD_S = 0.3  # one-note CLI ≤ `import spacy` + a few hundred ms
GOAL_VS_REGEX = 0.5  # on the mixed corpus: spinecode (1 worker) ≥ 0.5 × a plain regex keyword scan (issue 13)

ALL_MODES = ("regex", "tokenizer", "stock", "spinecode1", "spinecode2")
DEFAULT_MODES = ("tokenizer", "stock", "spinecode1", "spinecode2")
MIXED_MODES = ("regex", "tokenizer", "spinecode1", "spinecode2")
# the keywords a quick filter would look for: the procedure names, their abbreviations, cement
PROCEDURE_KEYWORDS = (r"\b(?:vertebroplast\w*|kyphoplast\w*|sacroplast\w*|vertebral\s+augmentation|stentoplasty"
                      r"|cementoplasty|PVP|BKP|PMMA|bone\s+cement)\b")
LABELS = {
    "regex": "regex keyword scan (re)",
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


def shared_mtsamples() -> Path | None:
    """../shared/mtsamples/notes.jsonl beside the checkout (or one level up, from a worktree), if present."""
    for base in (ROOT.parent, ROOT.parent.parent):
        path = base / "shared" / "mtsamples" / "notes.jsonl"
        if path.is_file():
            return path
    return None


def load_mixed(path: Path) -> tuple[list[tuple[str, str]], int]:
    """(the notes of a notes.jsonl file plus the in-scope corpora notes, how many of them are in scope)."""
    notes = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            notes.append((str(row.get("note_id", len(notes))), row["text"]))
    in_scope = []
    for note in sorted(ROOT.glob("corpora/*/*.txt")):
        gold = note.with_name(note.stem + ".gold.json")
        if gold.is_file():
            data = json.loads(gold.read_text(encoding="utf-8"))
            if data.get("codes") or data.get("procedures") or data.get("biopsy_only_levels"):
                in_scope.append((f"{note.parent.name}/{note.stem}", note.read_text(encoding="utf-8")))
    return notes + in_scope, len(in_scope)


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


class RegexScan(Mode):
    name = "regex"

    def build(self) -> None:
        import re

        self.pattern = re.compile(PROCEDURE_KEYWORDS, re.IGNORECASE)

    def run(self, items):
        return sum(1 for _, text in items if self.pattern.search(text))


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

        from extractor.pipeline.resources import read_rule_dicts

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.nlp = medspacy.load()  # medspacy_pyrush, medspacy_target_matcher, medspacy_context
            # medspaCy 1.3.1's rules= config of the target matcher is broken: add the rules afterwards,
            # as spinecode reads them (level-grammar pieces filled in)
            rules = read_rule_dicts("spinecode:targets", "target_rules")
            self.nlp.get_pipe("medspacy_target_matcher").add([TargetRule.from_dict(r) for r in rules])
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
    regex = results.get("regex", {}).get("notes_per_s")
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
    if one and regex:
        ratios["spinecode1_vs_regex"] = one / regex
        checks.append(("spinecode (1 worker) / regex scan", one / regex, GOAL_VS_REGEX))
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
        for other, goal in (("stock", GOAL_VS_STOCK), ("tokenizer", GOAL_VS_TOKENIZER), ("regex", GOAL_VS_REGEX)):
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


def stage_breakdown(items, rounds: int = 3, quiet: bool = False) -> dict | None:
    """Per-note CPU ms of each pipeline component and each post-processing step of Extractor.extract,
    the best of `rounds` passes over the notes per stage (a shared machine slows single passes).

    The components are called one by one; the post-processing is Extractor._from_doc itself, with the
    functions it calls (mentions.doc_to_sentences, api.facts_from_sentences, api.assign_codes, api.score) wrapped by
    timers, so this follows extractor/api.py as it changes; whatever is not wrapped lands in "post, other".
    """
    from extractor import api, mentions
    from extractor.text import normalize

    pc = time.process_time  # CPU time of this process: other processes on a busy machine barely move it
    ex = api.Extractor()
    nlp = ex.nlp
    best: dict[str, float] = {}
    acc: dict[str, float] = {}
    wrapped: list[tuple[object, str, object]] = []

    def wrap(module, attr: str, label: str) -> None:
        fn = getattr(module, attr, None)
        if fn is None:
            return

        def timed(*args, **kwargs):
            t = pc()
            try:
                return fn(*args, **kwargs)
            finally:
                acc[label] = acc.get(label, 0.0) + pc() - t

        setattr(module, attr, timed)
        wrapped.append((module, attr, fn))

    wrap(mentions, "doc_to_sentences", "mentions")
    wrap(api, "facts_from_sentences", "decide")
    wrap(api, "assign_codes", "coding")
    wrap(api, "score", "confidence (+ model)")
    inner_labels = ("mentions", "decide", "coding", "confidence (+ model)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ex.extract(items[0][1], note_id=items[0][0])  # one-off loads (e.g. a model) stay out of the numbers
            for _ in range(max(1, rounds)):
                acc.clear()
                acc["tokenizer"] = 0.0
                for name, _ in nlp.pipeline:
                    acc[name] = 0.0
                post = 0.0
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
                    acc["to_dict"] = acc.get("to_dict", 0.0) + t2 - t
                    acc["json"] = acc.get("json", 0.0) + pc() - t2
                    if k == 0 and line != json.dumps(ex.extract(text, note_id=note_id).to_dict(), ensure_ascii=False):
                        print("  WARNING: the stage breakdown no longer mirrors Extractor.extract "
                              "(update stage_breakdown in benchmarks/throughput.py)")
                acc["post, other"] = max(0.0, post - sum(acc.get(key, 0.0) for key in inner_labels))
                for key, value in acc.items():
                    best[key] = min(best.get(key, value), value)
    except Exception as exc:  # noqa: BLE001
        print(f"\nstage breakdown unavailable ({type(exc).__name__}: {exc}); extractor internals changed?")
        return None
    finally:
        for module, attr, fn in wrapped:
            setattr(module, attr, fn)
    order = ["tokenizer"] + [name for name, _ in nlp.pipeline] + list(inner_labels) + ["post, other", "to_dict", "json"]
    stages = {name: best.get(name, 0.0) for name in order}
    total = sum(stages.values())
    n = len(items)
    if not quiet:
        print(f"\nper-note CPU time by stage ({n} notes, one note at a time, best of {rounds} rounds per stage; "
              f"total {1e3 * total / n:.1f} ms/note = {n / total:.1f} notes per CPU-second):")
        for name, secs in stages.items():
            print(f"  {name:<24} {1e3 * secs / n:7.2f} ms  {100 * secs / total:5.1f} %")
    return {name: 1e3 * secs / n for name, secs in stages.items()}


def floor(texts: list[str], rounds: int = 5) -> dict:
    """What the fixed pipeline shape costs before any of our own work: the bare tokenizer, our
    tokenizer, and medspaCy's Sectionizer + TargetMatcher + ConText with the time of their regex
    scans (FastRegexMatcher calls) taken out. CPU ms per note, best of `rounds`."""
    import spacy

    from extractor import Extractor
    from extractor.pipeline.medspacy_patches import regex_matcher as fast_regex
    from extractor.text import normalize

    texts = [normalize(t) for t in texts]
    nlp = Extractor().nlp
    bare = spacy.blank("en")
    regex = [0.0]
    original = fast_regex.FastRegexMatcher.__call__

    def timed(self, doc):
        t = time.process_time()
        try:
            return original(self, doc)
        finally:
            regex[0] += time.process_time() - t

    medspacy_components = [name for name, _ in nlp.pipeline if name != "spinecode_sentences"]
    best: dict[str, float] = {}
    fast_regex.FastRegexMatcher.__call__ = timed
    try:
        list(nlp.pipe(texts[:5]))
        for _ in range(rounds):
            t = time.process_time()
            for text in texts:
                bare(text)
            row = {"bare tokenizer": time.process_time() - t}
            t = time.process_time()
            docs = [nlp.make_doc(text) for text in texts]
            row["spinecode tokenizer"] = time.process_time() - t
            regex[0] = 0.0
            spent = 0.0
            for name, proc in nlp.pipeline:
                t = time.process_time()
                docs = [proc(doc) for doc in docs]
                if name in medspacy_components:
                    spent += time.process_time() - t
            row["medspaCy components"] = spent
            row["their regex scans"] = regex[0]
            row["medspaCy components without regex"] = spent - regex[0]
            for key, value in row.items():
                best[key] = min(best.get(key, value), value)
    finally:
        fast_regex.FastRegexMatcher.__call__ = original
    out = {key: 1e3 * value / len(texts) for key, value in best.items()}
    goal = out["bare tokenizer"] / GOAL_VS_TOKENIZER
    shape_floor = out["spinecode tokenizer"] + out["medspaCy components without regex"]
    print(f"\nfloor of the fixed shape ({len(texts)} notes, CPU ms/note, best of {rounds}):")
    for key, value in out.items():
        print(f"  {key:<36} {value:6.2f}")
    print(f"  {'goal (bare tokenizer / ' + str(GOAL_VS_TOKENIZER) + ')':<36} {goal:6.2f}")
    print(f"  {'tokenizer + medspaCy without regex':<36} {shape_floor:6.2f}   "
          f"{'above the goal' if shape_floor > goal else 'within the goal'}")
    out.update(goal_ms=goal, shape_floor_ms=shape_floor)
    return out


def top_functions(items, top: int) -> list[dict]:
    """cProfile over spinecode (1 worker): the functions with the most self time, as the profile's top
    entries (stdlib only, so it runs wherever the benchmark runs)."""
    import cProfile
    import pstats

    mode = Spinecode(1)
    mode.build()
    mode.run(items[:10])
    profiler = cProfile.Profile()
    profiler.enable()
    mode.run(items)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    rows = []
    for (filename, line, name), (calls, _, self_time, cumulative, _) in stats.stats.items():
        rows.append({"function": f"{_short(filename)}:{line}({name})", "calls_per_note": calls / len(items),
                     "self_ms_per_note": 1e3 * self_time / len(items), "self_share": self_time / total,
                     "cumulative_ms_per_note": 1e3 * cumulative / len(items)})
    rows.sort(key=lambda r: -r["self_ms_per_note"])
    print(f"\ncProfile of spinecode (1 worker, {len(items)} notes; under the profiler everything runs ≈ 2x slower): "
          f"top {top} by self time")
    print(f"  {'self ms/note':>12} {'share':>6} {'cum ms/note':>11} {'calls/note':>10}  function")
    for r in rows[:top]:
        print(f"  {r['self_ms_per_note']:12.3f} {100 * r['self_share']:5.1f}% {r['cumulative_ms_per_note']:11.3f} "
              f"{r['calls_per_note']:10.1f}  {r['function']}")
    return rows[:top]


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/extractor/", "lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1] if marker != "/extractor/" else "extractor/" + filename.split(marker, 1)[1]
    return filename


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
    ap.add_argument("--modes", default=None,
                    help=f"comma-separated subset of {','.join(ALL_MODES)}; default {','.join(DEFAULT_MODES)} "
                         f"({','.join(MIXED_MODES)} with --mixed)")
    ap.add_argument("--mixed", nargs="?", type=Path, const=shared_mtsamples() or Path("../shared/mtsamples/notes.jsonl"),
                    default=None, metavar="JSONL",
                    help="a real mixed corpus: every note of JSONL (default ../shared/mtsamples/notes.jsonl) plus the "
                         "in-scope corpora notes, each once (--notes is ignored)")
    ap.add_argument("--quick", action="store_true",
                    help="a fast smoke run: 200 notes, 50 stock notes, 1 round, 3 CLI runs")
    ap.add_argument("--no-cli", action="store_true", help="skip the whole-process CLI timing")
    ap.add_argument("--stages", nargs="?", type=int, const=300, default=0, metavar="N",
                    help="also time each component / step per note over N notes (default 300)")
    ap.add_argument("--profile", type=Path, metavar="FILE",
                    help="also profile spinecode (1 worker, 300 notes) with pyinstrument into FILE (.html or .txt)")
    ap.add_argument("--floor", action="store_true",
                    help="also measure the fixed shape's floor: tokenizer + medspaCy components without their regex work")
    ap.add_argument("--importtime", action="store_true", help="also list the slowest imports of the CLI path")
    ap.add_argument("--stage-rounds", type=int, default=3, help="rounds of --stages; the best per stage is kept")
    ap.add_argument("--top", nargs="?", type=int, const=25, default=0, metavar="N",
                    help="also print cProfile's top N functions by self time (300 notes; default N 25)")
    ap.add_argument("--json", type=Path, metavar="FILE", help="write every number to FILE as JSON")
    args = ap.parse_args(argv)
    if args.quick:
        args.notes, args.stock_notes, args.rounds, args.cli_runs = 200, 50, 1, 3
    if args.modes is None:
        args.modes = ",".join(MIXED_MODES if args.mixed else DEFAULT_MODES)
    modes_wanted = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = set(modes_wanted) - set(ALL_MODES)
    if unknown:
        ap.error(f"unknown modes: {', '.join(sorted(unknown))}")

    corpus = load_corpus()
    in_scope = None
    if args.mixed:
        if not args.mixed.is_file():
            sys.exit(f"--mixed: no file {args.mixed}")
        items, in_scope = load_mixed(args.mixed)
    else:
        items = repeat_to(corpus, args.notes)
    stock_items = items[: min(args.stock_notes, len(items))]
    words = {id(items): sum(len(t.split()) for _, t in items), id(stock_items): sum(len(t.split()) for _, t in stock_items)}
    print(f"spinecode throughput benchmark — Python {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs, {load_average()}")
    print(f"code: {git_state()}")
    if hasattr(os, "getloadavg") and os.getloadavg()[0] > 0.5 * (os.cpu_count() or 1):
        print("NOTE: the machine is busy; other processes skew the numbers (most of all the 2-worker run)")
    from extractor.gate import gate_enabled

    if in_scope is not None:
        print(f"mixed corpus: {len(items) - in_scope} notes of {args.mixed.name} + {in_scope} in-scope corpora notes, "
              f"{words[id(items)] / len(items):.0f} words/note on average; relevance gate "
              f"{'on' if gate_enabled() else 'off (SPINECODE_GATE=0)'}; {args.rounds} interleaved round(s)")
    else:
        print(f"corpus: {len(corpus)} notes, {words[id(items)] / len(items):.0f} words/note on average; "
              f"timed runs: {len(items)} notes (stock medspaCy: {len(stock_items)}), {args.rounds} interleaved round(s)")

    modes: dict[str, Mode] = {}
    builds: dict[str, float] = {}
    # spinecode first, so its own medspaCy import path (without QuickUMLS) is the one exercised
    order = [m for m in ("spinecode1", "spinecode2", "tokenizer", "stock", "regex") if m in modes_wanted]
    builders = {"tokenizer": Tokenizer, "stock": Stock, "regex": RegexScan}
    for name in order:
        mode: Mode = Spinecode(int(name[-1])) if name.startswith("spinecode") else builders[name]()
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
        "mixed": str(args.mixed) if args.mixed else None, "in_scope_notes": in_scope, "gate": gate_enabled(),
    }
    if not args.no_cli:
        report["cli"] = time_cli(args.cli_runs, min(CORPORA[0].glob("*.txt")))
    if args.importtime:
        report["importtime"] = import_time(min(CORPORA[0].glob("*.txt")))
    if args.stages:
        report["stages_ms_per_note"] = stage_breakdown(repeat_to(corpus, args.stages), rounds=args.stage_rounds)
    if args.floor:
        report["floor"] = floor([text for _, text in corpus])
    if args.top:
        report["top_functions"] = top_functions(repeat_to(corpus, 300), args.top)
    if args.profile:
        profile(repeat_to(corpus, 300), args.profile)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
        print(f"\nnumbers written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
