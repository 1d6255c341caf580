"""extractor.readers: folders with hostile files, CSV/TSV, JSONL and Parquet tables (no extraction here)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
from pathlib import Path

import pytest
from batch_helpers import CANARY, NOTES, write_jsonl

from extractor.readers import (
    FolderSource,
    InputError,
    clean_date,
    clean_id,
    note_from_fields,
    open_source,
)

CP1252_NOTE = "L1 vertebroplasty \u2013 2 mL PMMA, \u201ccement\u201d, caf\u00e9 au lait."


def make_hostile_folder(root: Path) -> Path:
    """One file per hostile case (and two good ones). Returns root."""
    root.mkdir()
    (root / "good.txt").write_text(NOTES[0], encoding="utf-8")
    (root / "empty.txt").write_bytes(b"")
    (root / "whitespace.txt").write_bytes(b"  \n\t \r\n  ")
    (root / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + CANARY.encode())
    # no NUL byte, not UTF-8, not cp1252 (0x81, 0x8d, 0x8f, 0x90, 0x9d are undefined there)
    (root / "undecodable.txt").write_bytes(bytes(range(1, 32)) * 8 + b"\x81\x8d\x8f\x90\x9d" * 40)
    (root / "too_large.txt").write_text(NOTES[1] + " filler" * 400, encoding="utf-8")
    (root / "bom.txt").write_bytes(b"\xef\xbb\xbf" + NOTES[1].encode("utf-8"))
    (root / "cp1252.txt").write_bytes(CP1252_NOTE.encode("cp1252"))
    (root / "notes.md").write_text("not matched by the default glob", encoding="utf-8")
    (root / ".hidden.txt").write_text(NOTES[2], encoding="utf-8")
    sub = root / "sub"
    sub.mkdir()
    (sub / "nested.txt").write_text(NOTES[2], encoding="utf-8")
    (sub / "loop").symlink_to("..", target_is_directory=True)  # a folder symlink loop
    (root / "self_loop.txt").symlink_to("self_loop.txt")  # a file symlink loop (ELOOP)
    (root / "dangling.txt").symlink_to("does-not-exist.txt")
    (root / "linked.txt").symlink_to("good.txt")
    if hasattr(os, "mkfifo"):
        os.mkfifo(root / "fifo.txt")
    return root


def by_id(source) -> dict:
    return {n.note_id: n for n in source}


def test_hostile_folder_gives_one_item_per_note_file(tmp_path):
    root = make_hostile_folder(tmp_path / "in")
    source = FolderSource(root, max_bytes=2000)
    notes = by_id(source)
    expected = {"good", "empty", "whitespace", "binary", "undecodable", "too_large", "bom", "cp1252", "sub/nested",
                "self_loop", "dangling", "linked"} | ({"fifo"} if hasattr(os, "mkfifo") else set())
    assert set(notes) == expected  # the loop is not followed twice, .md and hidden files are not notes
    assert [n for n in source.files] == sorted(source.files)  # sorted by relative path
    assert source.total == len(expected)

    assert notes["good"].error is None and notes["good"].text == NOTES[0]
    assert notes["linked"].text == NOTES[0]
    assert notes["empty"].text == "" and notes["empty"].error is None  # the extractor says EmptyNote
    assert notes["whitespace"].error is None
    assert notes["binary"].error[0] == "UndecodableNote"
    assert notes["undecodable"].error[0] == "UndecodableNote"
    assert notes["too_large"].error[0] == "NoteTooLarge"
    assert notes["bom"].text == NOTES[1] and notes["bom"].warnings == []
    assert notes["cp1252"].text == CP1252_NOTE
    assert any("cp1252" in w for w in notes["cp1252"].warnings)
    assert notes["self_loop"].error[0] == "UnreadableNote"
    assert notes["dangling"].error[0] == "UnreadableNote"
    if hasattr(os, "mkfifo"):
        assert notes["fifo"].error == ("UnreadableNote", "not a regular file (fifo)")
    for note in notes.values():
        if note.error:
            assert CANARY not in note.error[1]


def test_folder_glob_and_nested_pattern(tmp_path):
    root = make_hostile_folder(tmp_path / "in")
    assert [n.note_id for n in FolderSource(root, pattern="*.md")] == ["notes"]
    assert [n.note_id for n in FolderSource(root, pattern="sub/*.txt")] == ["sub/nested"]


def test_folder_skips_the_output_file(tmp_path):
    root = tmp_path / "in"
    root.mkdir()
    (root / "a.txt").write_text(NOTES[0], encoding="utf-8")
    (root / "out.txt").write_text("{}", encoding="utf-8")
    source = FolderSource(root, exclude=(root / "out.txt",))
    assert [n.note_id for n in source] == ["a"]


def test_folder_size_limit_is_exact(tmp_path):
    root = tmp_path / "in"
    root.mkdir()
    (root / "a.txt").write_bytes(b"x" * 100)
    assert next(iter(FolderSource(root, max_bytes=100))).error is None
    assert next(iter(FolderSource(root, max_bytes=99))).error[0] == "NoteTooLarge"


def test_open_source_errors(tmp_path):
    with pytest.raises(InputError):
        open_source(str(tmp_path / "missing"))
    (tmp_path / "x.xlsx").write_bytes(b"")
    with pytest.raises(InputError, match="not a folder and not a table"):
        open_source(str(tmp_path / "x.xlsx"))


# --------------------------------------------------------------------------- CSV


def test_csv_reader(tmp_path):
    path = tmp_path / "notes.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:  # with a BOM, like Excel writes
        w = csv.writer(fh)
        w.writerow(["note_id", "dos", "text"])
        w.writerow(["a", "2014-06-30", "Line one,\nline two with \"quotes\".\n" + NOTES[0]])
        w.writerow(["", "", NOTES[1]])
        w.writerow(["c", "30/06/2014", NOTES[1]])
        w.writerow(["d", "", ""])
        w.writerow([])
        w.writerow(["e"])
    with open(path, "ab") as fh:  # one row in cp1252, as mixed exports have
        fh.write(b"f,," + CP1252_NOTE.encode("cp1252").replace(b",", b";") + b"\r\n")
    notes = list(open_source(str(path), date_col="dos"))
    assert [n.note_id for n in notes] == ["a", None, "c", "d", "e", "f"]
    assert notes[0].text.endswith(NOTES[0]) and "\n" in notes[0].text and notes[0].date_of_service == "2014-06-30"
    assert notes[1].error[0] == "MissingNoteId"
    assert notes[2].error[0] == "InvalidDateOfService" and "30/06" not in notes[2].error[1]
    assert notes[3].error is None and notes[3].text == ""
    assert notes[4].error[0] == "MissingText"
    assert notes[5].text == CP1252_NOTE.replace(",", ";") and "cp1252" in notes[5].warnings[0]


def test_csv_missing_column_is_an_input_error(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("id,body\n1,x\n", encoding="utf-8")
    with pytest.raises(InputError, match="no column 'note_id'"):
        open_source(str(path))
    assert [n.note_id for n in open_source(str(path), id_col="id", text_col="body")] == ["1"]
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(InputError):
        open_source(str(tmp_path / "empty.csv"))


def test_tsv_reader_and_csv_progress_fraction(tmp_path):
    path = tmp_path / "notes.tsv"
    path.write_text("note_id\ttext\nx\t" + NOTES[0] + "\ny\t" + NOTES[1] + "\n", encoding="utf-8")
    source = open_source(str(path))
    assert source.total is None
    notes = list(source)
    assert [(n.note_id, n.text) for n in notes] == [("x", NOTES[0]), ("y", NOTES[1])]


# --------------------------------------------------------------------------- JSONL


def test_jsonl_reader(tmp_path):
    path = write_jsonl(tmp_path / "notes.jsonl", [
        {"note_id": "a", "text": NOTES[0], "dos": "2014-06-30T10:15:00"},
        {"note_id": 7, "text": NOTES[1]},
        {"note_id": "c"},
        {"note_id": "d", "text": 12},
        ["not", "an", "object"],
        {"text": NOTES[2]},
        {"note_id": "g", "text": "\ud800 lone surrogate"},
    ])
    with open(path, "ab") as fh:
        fh.write(b"\n{not json\n")
        fh.write(b'{"note_id": "latin", "text": "' + CP1252_NOTE.encode("cp1252") + b'"}\n')
        fh.write(b'{"note_id": "last", "text": "no newline at the end"}')
    source = open_source(str(path), date_col="dos")
    assert source.total == 11
    notes = list(source)
    assert [n.note_id for n in notes] == ["a", "7", "c", "d", None, None, "g", None, "latin", "last"]
    assert notes[0].date_of_service == "2014-06-30"
    assert notes[2].error[0] == "MissingText"
    assert notes[3].error[0] == "BadInputRecord"
    assert notes[4].error == ("BadInputRecord", "input line 5 is not a JSON object")
    assert notes[5].error[0] == "MissingNoteId"
    assert notes[6].text == "\ufffd lone surrogate" and "surrogate" in notes[6].warnings[0]
    assert notes[7].error == ("BadInputRecord", "input line 9 is not valid JSON")
    assert notes[8].text == CP1252_NOTE and "cp1252" in notes[8].warnings[0]
    assert notes[9].text == "no newline at the end"


def test_jsonl_from_stdin():
    data = json.dumps({"note_id": "s1", "text": NOTES[0]}).encode() + b"\n"
    source = open_source("-", stdin=io.BytesIO(data))
    assert source.total is None
    assert [(n.note_id, n.text) for n in source] == [("s1", NOTES[0])]


# --------------------------------------------------------------------------- Parquet


def test_parquet_reader(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({
        "id": pa.array([1, 2, 3, None]),
        "body": pa.array([NOTES[0].encode(), CP1252_NOTE.encode("cp1252"), None, b"x"], type=pa.binary()),
        "day": pa.array([dt.date(2014, 6, 30), None, None, None], type=pa.date32()),
    })
    pq.write_table(table, tmp_path / "n.parquet", row_group_size=2)
    source = open_source(str(tmp_path / "n.parquet"), id_col="id", text_col="body", date_col="day")
    assert source.total == 4
    notes = list(source)
    assert [n.note_id for n in notes] == ["1", "2", "3", None]
    assert notes[0].text == NOTES[0] and notes[0].date_of_service == "2014-06-30"
    assert notes[1].text == CP1252_NOTE and notes[1].warnings
    assert notes[2].error[0] == "MissingText"
    assert notes[3].error[0] == "MissingNoteId"
    with pytest.raises(InputError, match="no column 'text'"):
        open_source(str(tmp_path / "n.parquet"), id_col="id")
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(InputError):
        open_source(str(tmp_path / "bad.parquet"))


# --------------------------------------------------------------------------- single values


def test_clean_id_and_date():
    assert clean_id(None) is None and clean_id("  ") is None and clean_id(float("nan")) is None
    assert clean_id(12) == "12" and clean_id(12.0) == "12" and clean_id(b"x") == "x" and clean_id("a b") == "a b"
    assert clean_date(None) == (None, True) and clean_date("") == (None, True)
    assert clean_date("2014-06-30") == ("2014-06-30", True)
    assert clean_date(dt.datetime(2014, 6, 30, 10, 0)) == ("2014-06-30", True)
    assert clean_date("June 30") == (None, False) and clean_date(3) == (None, False)


def test_note_from_fields_size_limit_counts_utf8_bytes():
    assert note_from_fields("a", "\u00e9" * 10, None, 20, "row 1").error is None
    assert note_from_fields("a", "\u00e9" * 11, None, 20, "row 1").error[0] == "NoteTooLarge"
