"""extractor.writers: JSONL resume scan, CSV flattening, Parquet columns, atomic replace."""

from __future__ import annotations

import json

import pytest
from batch_helpers import NOTES

from extractor.api import error_result
from extractor.writers import (
    CSV_COLUMNS,
    CsvWriter,
    OutputError,
    csv_row,
    format_for,
    json_line,
    open_writer,
    scan_jsonl,
)


def records(extractor) -> list[dict]:
    items = [(f"r{k}", text) for k, text in enumerate(NOTES)] + [("empty", "")]
    return [r.to_dict() for r in extractor.pipe(items)] + [error_result("bad", "UnreadableNote", "x").to_dict()]


def test_format_for():
    assert format_for("a.jsonl") == "jsonl" and format_for("a.json") == "jsonl" and format_for("-") == "jsonl"
    assert format_for("a.CSV") == "csv" and format_for("a.parquet") == "parquet" and format_for("a.pq") == "parquet"
    assert format_for("a.csv", "jsonl") == "jsonl"
    with pytest.raises(ValueError):
        format_for("a", "xml")


def test_json_line_escapes_what_utf8_cannot_hold():
    assert json_line({"a": "caf\u00e9"}) == '{"a": "café"}\n'.encode()
    line = json_line({"a": "\ud800"})
    assert json.loads(line) == {"a": "\ud800"} and line.isascii()


def test_scan_jsonl_cuts_a_torn_last_line(tmp_path):
    path = tmp_path / "out.jsonl"
    good = b'{"note_id": "a"}\n{"note_id": "b"}\n'
    path.write_bytes(good + b'{"note_id": "c", "proce')
    seen = []
    state = scan_jsonl(str(path), on_record=seen.append)
    assert state.note_ids == ["a", "b"] and state.records == 2 and state.repaired_bytes == len(b'{"note_id": "c", "proce')
    assert path.read_bytes() == good and [r["note_id"] for r in seen] == ["a", "b"]
    path.write_bytes(good + b"\x00" * 4096)  # what a power cut can leave
    assert scan_jsonl(str(path)).note_ids == ["a", "b"] and path.read_bytes() == good
    path.write_bytes(good + b'{"note_id": "c"}')  # complete JSON, no newline: still torn, redone
    assert scan_jsonl(str(path)).note_ids == ["a", "b"] and path.read_bytes() == good
    path.write_bytes(b"")
    assert scan_jsonl(str(path)).records == 0


def test_scan_jsonl_refuses_a_broken_line_followed_by_records(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_bytes(b'{"note_id": "a"}\nGARBAGE\n{"note_id": "b"}\n')
    with pytest.raises(OutputError, match="line 2"):
        scan_jsonl(str(path))
    assert path.read_bytes().endswith(b'{"note_id": "b"}\n')  # untouched


def test_csv_rows(extractor):
    recs = records(extractor)
    rows = {r["note_id"]: csv_row(r) for r in recs}
    first = dict(zip(CSV_COLUMNS, rows["r0"]))
    rec0 = recs[0]
    assert first["levels"] == ";".join(p["level"] for p in rec0["procedures"])
    assert first["codes"] == ";".join(f"{c['code']}x{c['units']}" for c in rec0["codes"])
    assert first["review"] in ("true", "false") and float(first["confidence"]) == rec0["confidence"]
    assert first["error"] == ""
    bad = dict(zip(CSV_COLUMNS, rows["bad"]))
    assert bad == {**dict.fromkeys(CSV_COLUMNS, ""), "note_id": "bad", "error": "UnreadableNote: x"}
    assert dict(zip(CSV_COLUMNS, rows["empty"]))["error"].startswith("EmptyNote: ")
    modifier = {"note_id": "m", "procedures": [], "codes": [{"code": "22511", "units": 1, "modifiers": ["59"]},
                                                            {"code": "22512", "units": 2, "modifiers": []}],
                "review": True, "confidence": 0.5}
    assert csv_row(modifier)[3] == "22511x1-59;22512x2"


BIOPSY_ELSEWHERE = ("PROCEDURE: Bone biopsy of T9 and vertebroplasty of L2 under fluoroscopy, bipedicular, "
                    "4 mL PMMA into L2. Prior L4 vertebroplasty (2010).")


def test_csv_keeps_what_a_coder_needs(extractor, tmp_path):
    """Warnings, code set, date, claim extras and not-treated levels survive the CSV, read back by csv."""
    import csv

    auto = type(extractor)(code_set="auto")
    recs = [r.to_dict() for r in auto.pipe([("old", BIOPSY_ELSEWHERE, "2013-05-02"), ("r0", NOTES[0]),
                                            ("bad", NOTES[0], "2013-02-30")])]
    recs.append({**recs[1], "note_id": "w", "warnings": ["a; b, c", "second"], "review": True,
                 "queries": [{"topic": "sedation_time", "question": "What times?", "levels": []}],
                 "info": ["S1: by anesthesia"], "other_procedures": ["tumor ablation"],
                 "additional_codes": [{"code": "99152", "units": 1, "modifiers": []}],
                 "not_treated": [{"level": "L4", "reason": "historical"}, {"level": "L5", "reason": "planned"}]})
    writer = open_writer(str(tmp_path / "o.csv"), "csv")
    for r in recs:
        writer.write(r)
    writer.close()
    with open(tmp_path / "o.csv", encoding="utf-8", newline="") as fh:
        rows = {row["note_id"]: row for row in csv.DictReader(fh)}
    old = rows["old"]
    assert old["code_set"] == "legacy" == recs[0]["code_set"] and old["date_of_service"] == "2013-05-02 (caller)"
    assert old["pcs_codes"] == ";".join(f"{c['code']} ({c['level']})" for c in recs[0]["pcs_codes"]) != ""
    assert old["biopsy_only_levels"] == ";".join(recs[0]["biopsy_only_levels"])
    assert old["warnings"].split("\n") == (recs[0]["warnings"] or [""])
    assert rows["r0"]["code_set"] == "current" and rows["r0"]["date_of_service"] == ""
    w = rows["w"]
    assert w["warnings"].split("\n") == ["a; b, c", "second"] and w["review"] == "true"
    assert w["queries"] == "sedation_time: What times?" and w["info"] == "S1: by anesthesia"
    assert w["other_procedures"] == "tumor ablation" and w["additional_codes"] == "99152x1"
    assert w["not_treated"] == "L4 (historical);L5 (planned)"
    bad = rows["bad"]
    assert bad["error"].startswith("InvalidDateOfService: ") and bad["code_set"] == bad["warnings"] == ""


def test_parquet_output_columns_follow_the_contract(extractor, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    from extractor.contract import output_schema

    recs = records(extractor)
    writer = open_writer(str(tmp_path / "o.parquet"), "parquet")
    for r in recs:
        writer.write(r)
    writer.close()
    assert [p.name for p in tmp_path.iterdir()] == ["o.parquet"]  # no temporary file left
    table = pq.read_table(tmp_path / "o.parquet")
    contract = set()
    for variant in output_schema()["oneOf"]:
        contract |= set(variant["properties"])
    assert contract | {"result"} == set(table.column_names)
    assert table.column_names[0] == "note_id"
    rows = table.to_pylist()
    for rec, row in zip(recs, rows):
        assert json.loads(row["result"]) == rec
        for name in contract:
            if name in rec and name not in ("procedures", "codes"):
                assert row[name] == rec[name], name
        for got, want in zip(row["procedures"] or [], rec.get("procedures", [])):
            assert {k: got[k] for k in want if k in got} == {k: want[k] for k in want if k in got}
        assert [c["code"] for c in row["codes"] or []] == [c["code"] for c in rec.get("codes", [])]
    assert rows[-1]["error"] == {"type": "UnreadableNote", "message": "x"} and rows[0]["error"] is None


def test_atomic_writers_leave_out_alone_until_close(tmp_path):
    out = tmp_path / "o.csv"
    out.write_text("old\n", encoding="utf-8")
    writer = CsvWriter(str(out))
    writer.write({"note_id": "a", "procedures": [], "codes": [], "review": False, "confidence": 0.9})
    assert out.read_text(encoding="utf-8") == "old\n"
    writer.abort()
    assert out.read_text(encoding="utf-8") == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["o.csv"]
    writer = CsvWriter(str(out))
    writer.write({"note_id": "a", "procedures": [], "codes": [], "review": False, "confidence": 0.9})
    writer.close()
    assert out.read_text(encoding="utf-8").splitlines() == [",".join(CSV_COLUMNS),
                                                            "a,,,,false,0.9" + "," * (len(CSV_COLUMNS) - 6)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.csv"]


def test_open_writer_errors(tmp_path):
    with pytest.raises(OutputError):
        open_writer(str(tmp_path / "missing-folder" / "o.jsonl"), "jsonl")
    with pytest.raises(OutputError):
        open_writer("-", "csv")
