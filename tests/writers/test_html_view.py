"""The review view (extractor/html_view.py): escaping, safe file names, batch --html, text output, a real browser."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor import extract
from extractor.batch import run_batch
from extractor.cli import app, summary
from extractor.html_view import highlighted_text, index_page, note_page, safe_file_name

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "vertebroplasty_with_biopsy.txt"
HOSTILE = "<script>alert(1)</script> <img src=x onerror=alert(2)> L3 vertebroplasty with PMMA 3 mL."


def test_note_text_and_ids_are_escaped():
    rec = extract(HOSTILE, note_id="<b>x</b>").to_dict()
    page = note_page(rec, HOSTILE)
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>x</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "<b>x</b>" not in index_page([rec])


@pytest.mark.parametrize("nid", ["../../etc/passwd", "/abs/x", "..", "a\\b", "index", None, ""])
def test_file_names_are_safe(nid):
    name = safe_file_name(nid)
    assert "/" not in name and "\\" not in name and not name.startswith(".") and name != "index.html"


def test_every_evidence_span_is_marked():
    text = EXAMPLE.read_text()
    rec = extract(text, note_id="v").to_dict()
    marked = re.findall(r"<mark [^>]*>([^<]*)</mark>", highlighted_text(text, rec))
    spans = {(e["start"], e["end"]) for p in rec["procedures"] for e in p["evidence"]}
    assert len(marked) == len(spans) and "Polymethylmethacrylate" in marked


def test_batch_writes_index_and_pages(tmp_path):
    code = run_batch(str(ROOT / "examples"), tmp_path / "o.jsonl", quiet=True, html=str(tmp_path / "html"))
    assert code == 0
    ids = [json.loads(line)["note_id"] for line in (tmp_path / "o.jsonl").read_text().splitlines()]
    names = {p.name for p in (tmp_path / "html").iterdir()}
    assert names == {"index.html"} | {f"{i}.html" for i in ids}
    page = (tmp_path / "html" / "vertebroplasty_with_biopsy.html").read_text()
    assert "22511" in page and "<mark" in page and "http" not in page.replace("http-equiv", "")


def test_text_format_has_descriptions_rationales_evidence_pcs_queries():
    rec = extract(EXAMPLE.read_text(), note_id="v").to_dict()
    out = summary(rec)
    assert rec["codes"][0]["description"] in out and rec["codes"][0]["rationale"] in out
    assert '"Polymethylmethacrylate"' in out and "ICD-10-PCS 0QU03JZ" in out
    assert "query (" not in out
    out = summary({**rec, "queries": [{"topic": "sedation_time", "question": "How long?", "levels": []}]})
    assert "query (sedation_time): How long?" in out


def test_cli_html_format():
    res = CliRunner().invoke(app, ["extract", str(EXAMPLE), "--format", "html"])
    assert res.exit_code == 0 and res.stdout.startswith("<!DOCTYPE html>") and "<mark" in res.stdout


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium(*args):
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", *args],
                          check=False, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(not CHROMIUM, reason="no chromium (apt-get install chromium)")
def test_pages_in_a_real_browser(tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    shutil.copy(EXAMPLE, notes)
    shutil.copy(ROOT / "examples" / "consult_no_procedure.txt", notes)
    (notes / "hostile.txt").write_text(HOSTILE)
    (notes / "empty.txt").write_text("")  # an error record: always for review
    html = tmp_path / "html"
    run_batch(str(notes), tmp_path / "o.jsonl", quiet=True, html=str(html))
    dom = _chromium("--dump-dom", (html / "hostile.html").as_uri()).stdout
    assert "&lt;script&gt;alert(1)" in dom and "<img src=\"x\"" not in dom
    dom = _chromium("--dump-dom", (html / "vertebroplasty_with_biopsy.html").as_uri()).stdout
    assert re.search(r'<mark class="CEMENT"[^>]*>Polymethylmethacrylate</mark>', dom) and "22511x1" in dom
    # the review-only filter, run by the browser's JS
    index = (html / "index.html").read_text()
    reviews = re.findall(r'data-review="(true|false)"', index)
    assert "true" in reviews and "false" in reviews
    (html / "filtered.html").write_text(index.replace("</body>", "<script>document.getElementById('review-only')"
                                                      ".click();</script></body>"))
    dom = _chromium("--dump-dom", (html / "filtered.html").as_uri()).stdout
    hidden = re.findall(r'<tr class="note" data-review="false" style="display: none;">', dom)
    assert len(hidden) == reviews.count("false")
    shot = tmp_path / "note.png"
    _chromium(f"--screenshot={shot}", "--window-size=1200,1400", (html / "vertebroplasty_with_biopsy.html").as_uri())
    assert shot.stat().st_size > 1000
