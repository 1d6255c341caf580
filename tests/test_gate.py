"""The relevance gate (extractor/gate.py, patterns/gate.json): it never lets an in-scope note skip the
pipeline, each cue class opens it on its own, and a record is byte-identical with the gate on and off."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractor import Extractor
from extractor.gate import (
    CUE_CLASSES,
    GATE_ENV,
    age_reads_alike,
    cue_classes,
    gate_enabled,
    needs_pipeline,
    opening_cues,
)

ROOT = Path(__file__).resolve().parents[1]
CORPUS_NOTES = sorted(ROOT.glob("corpora/*/*.txt"))
EXAMPLE_NOTES = sorted(ROOT.glob("examples/**/*.txt"))
DEVSET = Path("/work/shared/devset")
MTSAMPLES = Path("/work/shared/mtsamples/notes.jsonl")
MTSAMPLES_NOTES = 300

# cue class -> sentences that open the gate through that class alone
OPENS = {
    "level": ["A compression fracture of T12 is noted.", "Pain at el one.", "The twelfth thoracic vertebra.",
              "Sacral insufficiency fracture.", "S1 is intact."],
    "in_scope_procedure": ["She is a candidate for kyphoplasty.", "s/p vertebroplasty last year.",
                           "Sacroplasty was discussed."],
    "needle": ["Needle counts were correct.", "The trocar was withdrawn.", "Peripheral IV access was obtained."],
    "other_procedure": ["Status post posterior spinal fusion.", "Pedicle screws were placed.",
                        "History of total knee arthroplasty.", "He had an epidural steroid injection."],
    "sedation": ["Performed under general anesthesia.", "Moderate sedation was given.", "Versed 2 mg IV."],
    "filler": ["Bone cement was mixed.", "PMMA was prepared."],
}
CLOSED = ["The patient reports a cough for three days.", "Lungs are clear. Follow up in two weeks.",
          "A 45-year-old woman with a rash.", "Date of service: 03/14/2024. Blood pressure 120/80."]
# whole notes the gate lets pass (the corpora hold none: all of them are about the spine)
CLOSED_NOTES = [
    "CONSULTATION\nReason for consult: rash.\nHPI: This 72 yo man has had a rash for a week.\n\nPLAN: cream.",
    "HISTORY AND PHYSICAL\nDate of service: 2024-03-14\nAge: 61\nChief complaint: cough.\nLungs clear.",
    "Progress Note\n\nSUBJECTIVE: A 3-month-old infant seen for fever.\nASSESSMENT: viral illness.",
    "OPERATIVE REPORT\nPROCEDURE: Tonsillectomy.\nThe tonsils were removed. Estimated blood loss minimal.",
    "EXAM: MRI brain without contrast\nIMPRESSION: No acute infarct.\n[x] reviewed",
]


def _gold_in_scope(path: Path) -> bool:
    gold = path.with_suffix("").with_suffix(".gold.json")
    if not gold.exists():
        return False
    data = json.loads(gold.read_text(encoding="utf-8"))
    return bool(data.get("codes") or data.get("procedures") or data.get("biopsy_only_levels"))


@pytest.fixture(scope="module")
def without_gate():
    return Extractor(gate=False)


@pytest.fixture(scope="module")
def with_gate():
    return Extractor(gate=True)


def test_the_listed_classes_are_the_file_entries():
    from extractor.lexicon import lexicon

    assert list(OPENS) == list(CUE_CLASSES) == list(cue_classes()) == list(lexicon("gate").entries)


@pytest.mark.parametrize("name", list(OPENS))
def test_each_cue_class_opens_the_gate_alone(name):
    for sentence in OPENS[name]:
        assert opening_cues(sentence) == [name], sentence
        assert needs_pipeline(sentence), sentence


def test_a_note_without_cues_skips_the_pipeline():
    for sentence in CLOSED + CLOSED_NOTES:
        assert opening_cues(sentence) == [], sentence
        assert not needs_pipeline(sentence), sentence


def test_an_age_the_sentences_may_read_otherwise_opens_the_gate():
    assert age_reads_alike("A 45-year-old woman.")
    assert not age_reads_alike("Age:\n45")  # a sentence ends after the colon's line
    assert not age_reads_alike("[ ] smoker. 45 year old")  # the box's blank stops at its sentence's end
    assert needs_pipeline("Age:\n45")
    assert not needs_pipeline("Age: 45")


def _pipeline_records(extractor, path: Path) -> tuple[dict, str]:
    record = extractor.extract(path.read_text(encoding="utf-8"), note_id=path.stem).to_dict()
    return record, json.dumps(record, sort_keys=True)


def test_recall_on_every_in_scope_corpus_note(without_gate):
    """Every note with codes or treated levels (by its gold file or by the pipeline) opens the gate."""
    in_scope = 0
    for path in CORPUS_NOTES:
        record, _ = _pipeline_records(without_gate, path)
        if _gold_in_scope(path) or record.get("codes") or record.get("procedures"):
            in_scope += 1
            assert needs_pipeline(path.read_text(encoding="utf-8")), path.name
    assert in_scope > 100


@pytest.mark.skipif(not DEVSET.is_dir(), reason="no /work/shared/devset")
def test_recall_on_the_devset():
    notes = [p for p in sorted(DEVSET.glob("*.txt")) if _gold_in_scope(p)]
    assert notes
    for path in notes:
        assert needs_pipeline(path.read_text(encoding="utf-8")), path.name


@pytest.mark.parametrize("code_set", ["current", "legacy"])
def test_records_are_identical_with_and_without_gate(code_set):
    on, off = Extractor(code_set=code_set, gate=True), Extractor(code_set=code_set, gate=False)
    texts = [(p.stem, p.read_text(encoding="utf-8")) for p in CORPUS_NOTES + EXAMPLE_NOTES]
    texts += [(f"closed_{k}", text) for k, text in enumerate(CLOSED + CLOSED_NOTES)]
    items = [(note_id, text, "2024-05-01" if k % 3 == 0 else None) for k, (note_id, text) in enumerate(texts)]
    for (note_id, text, dos), a, b in zip(items, on.pipe(items), off.pipe(items)):
        assert json.dumps(a.to_dict()) == json.dumps(b.to_dict()), note_id
    gated = [text for _, text, _ in items if not needs_pipeline(text)]
    assert len(gated) == len(CLOSED + CLOSED_NOTES)
    for text in gated:  # one note at a time too
        assert json.dumps(on.extract(text).to_dict()) == json.dumps(off.extract(text).to_dict())


@pytest.mark.skipif(not MTSAMPLES.is_file(), reason="no /work/shared/mtsamples")
def test_records_are_identical_on_real_notes(with_gate, without_gate):
    with MTSAMPLES.open(encoding="utf-8") as fh:
        items = [(d["note_id"], d["text"]) for d in map(json.loads, (next(fh) for _ in range(MTSAMPLES_NOTES)))]
    assert sum(not needs_pipeline(text) for _, text in items if text.strip()) > 30
    for (note_id, _), a, b in zip(items, with_gate.pipe(items), without_gate.pipe(items)):
        assert json.dumps(a.to_dict()) == json.dumps(b.to_dict()), note_id


def test_two_workers_keep_the_gate_setting():
    items = [("a", CLOSED[0]), ("b", OPENS["level"][0]), ("c", "")]
    one = [r.to_dict() for r in Extractor(gate=False).pipe(items)]
    two = [r.to_dict() for r in Extractor(gate=True).pipe(items, n_process=2)]
    assert one == two


def test_the_switch(monkeypatch):
    monkeypatch.delenv(GATE_ENV, raising=False)
    assert gate_enabled() and not gate_enabled(False) and Extractor().gate and not Extractor(gate=False).gate
    monkeypatch.setenv(GATE_ENV, "0")
    assert not gate_enabled() and not Extractor().gate and Extractor(gate=True).gate


def test_a_gated_note_never_builds_a_doc(monkeypatch, with_gate):
    def no_doc(*args, **kwargs):
        raise AssertionError("a spaCy Doc was built")

    monkeypatch.setattr(with_gate, "nlp", type("NoNlp", (), {"__call__": no_doc, "pipe": lambda self, texts: map(no_doc, texts)})())
    record = with_gate.extract(CLOSED[2], note_id="n").to_dict()
    assert record["sedation"]["age_years"] == 45 and record["codes"] == []
    assert [r.to_dict() for r in with_gate.pipe([("n", CLOSED[2])])] == [record]
