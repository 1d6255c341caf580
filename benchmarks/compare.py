#!/usr/bin/env python
"""Before/after throughput of two checkouts, in one run. Not a test.

    .venv/bin/python benchmarks/compare.py OLD_CHECKOUT [NEW_CHECKOUT] [--rounds 3] [--notes 300]

Each checkout runs its own benchmarks/throughput.py (modes tokenizer and spinecode1, no CLI timing)
with its own `.venv/bin/python`, alternately, OLD NEW OLD NEW ..., so that machine load falls on
both alike. Prints each round, then the best notes/s and the lowest CPU ms per note of each checkout
and the ratio new/old. The tokenizer's rate is printed as a control: it is the same code in both, so
its ratio shows the noise.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_once(tree: Path, notes: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "numbers.json"
        cmd = [str(tree / ".venv" / "bin" / "python"), str(tree / "benchmarks" / "throughput.py"), "--notes",
               str(notes), "--rounds", "1", "--modes", "tokenizer,spinecode1", "--no-cli", "--json", str(out)]
        subprocess.run(cmd, cwd=tree, check=True, stdout=subprocess.DEVNULL)
        results = json.loads(out.read_text())["results"]
    return {mode: (r["notes_per_s"], r["cpu_ms_per_note"]) for mode, r in results.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("old", type=Path)
    ap.add_argument("new", type=Path, nargs="?", default=ROOT)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--notes", type=int, default=300)
    args = ap.parse_args(argv)
    trees = {"old": args.old.resolve(), "new": args.new.resolve()}
    for name, tree in trees.items():
        if not (tree / ".venv" / "bin" / "python").exists():
            ap.error(f"{name} checkout {tree} has no .venv")
    seen: dict[str, list[dict]] = {"old": [], "new": []}
    for k in range(args.rounds):
        for name, tree in trees.items():
            numbers = run_once(tree, args.notes)
            seen[name].append(numbers)
            print(f"round {k + 1} {name}: " + ", ".join(f"{m} {v[0]:.1f} notes/s {v[1]:.2f} CPU ms/note"
                                                        for m, v in sorted(numbers.items())), flush=True)
    print()
    print(f"{'mode':<12} {'old notes/s':>12} {'new notes/s':>12} {'new/old':>8} {'old CPU ms':>11} {'new CPU ms':>11}")
    for mode in ("tokenizer", "spinecode1"):
        best = {n: max(r[mode][0] for r in seen[n]) for n in seen}
        cpu = {n: min(r[mode][1] for r in seen[n]) for n in seen}
        print(f"{mode:<12} {best['old']:>12.1f} {best['new']:>12.1f} {best['new'] / best['old']:>8.2f} "
              f"{cpu['old']:>11.2f} {cpu['new']:>11.2f}")
    print(f"(best of {args.rounds} rounds of {args.notes} notes; old = {trees['old']}, new = {trees['new']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
