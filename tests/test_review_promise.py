"""review=false is a promise (coding-rules 0.2): on every corpus folder, each note spinecode does not send
to review has exactly the gold codes and additional codes. The blind rounds (corpora/blind) count too."""

import json
from pathlib import Path

import pytest

from extractor import Extractor
from extractor.evaluate import code_pairs, find_pairs

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = sorted(p for p in (ROOT / "corpora").iterdir() if p.is_dir())


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_every_note_not_sent_to_review_is_exactly_right(folder):
    pairs = find_pairs([folder])
    if not pairs:
        pytest.skip(f"{folder.name} has no gold notes")
    items = [(name, txt.read_text(encoding="utf-8")) for name, txt, _ in pairs]
    wrong = []
    automated = 0
    for (name, _, gold_path), result in zip(pairs, Extractor().pipe(items)):
        record, gold = result.to_dict(), json.loads(gold_path.read_text(encoding="utf-8"))
        if record.get("review", True):
            continue
        automated += 1
        if code_pairs(record["codes"]) != code_pairs(gold.get("codes", [])) or (
                code_pairs(record["additional_codes"]) != code_pairs(gold.get("additional_codes", []))):
            wrong.append(name)
    assert automated and not wrong, f"{folder.name}: review=false but wrong: {wrong}"
