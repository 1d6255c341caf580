import json
import subprocess
import sys
from pathlib import Path

from extractor.contract import validate

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(*args, input=None):
    return subprocess.run([sys.executable, "-m", "extractor", *args], capture_output=True, text=True, input=input, check=False)


def test_extract_json_and_text():
    note = min(EXAMPLES.glob("*.txt"))
    out = run("extract", str(note))
    assert out.returncode == 0, out.stderr
    rec = json.loads(out.stdout)
    validate(rec)
    assert rec["note_id"] == note.stem
    text = run("extract", str(note), "--format", "text")
    assert "codes:" in text.stdout


def test_extract_from_stdin():
    out = run("extract", "-", input="Vertebroplasty of T12 with 3 mL PMMA under fluoroscopy.")
    rec = json.loads(out.stdout)
    assert [p["level"] for p in rec["procedures"]] == ["T12"]


def test_batch_writes_one_line_per_note(tmp_path):
    out = tmp_path / "out.jsonl"
    res = run("batch", str(EXAMPLES), "--out", str(out), "--quiet")
    assert res.returncode in (0, 1), res.stderr
    lines = out.read_text().splitlines()
    assert len(lines) == len(list(EXAMPLES.glob("*.txt")))


def test_version():
    out = run("--version")
    assert out.stdout.startswith("spinecode ")
