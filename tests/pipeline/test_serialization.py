"""A saved pipeline reloads in a fresh process and extracts exactly as the built one; its docs cross
processes (`nlp.pipe(n_process=2)`); its pipes build from their default config; medspaCy is untouched."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import spacy

from extractor import Extractor
from extractor.mentions import doc_to_sentences
from extractor.pipeline import PIPES, build_pipeline, get_pipeline

NOTES = [
    (
        "PROCEDURE: Bilateral balloon kyphoplasty, T12.\nThe balloons were inflated and 4 mL PMMA was injected. "
        "No biopsy. Prior vertebroplasty at L1."
    ),
    "Vertebroplasty at L2 was planned but aborted: the needle could not be placed. No cement was injected.",
    "HISTORY: T8 fracture.\n\nIMPRESSION: Unipedicular vertebroplasty of L3 with 3 cc cement under fluoroscopy.",
]


def mention_view(doc) -> list:
    return [
        (m.label, m.start, m.end, m.literal, m.section, sorted(m.modifiers), m.levels)
        for sentence in doc_to_sentences(doc)
        for m in sentence.mentions
    ]


def test_reloaded_in_a_fresh_process_extracts_the_same(tmp_path):
    get_pipeline().to_disk(tmp_path / "nlp")
    for pipe in ("spinecode_sectionizer", "spinecode_targets", "spinecode_context"):
        assert (tmp_path / "nlp" / pipe / "rules.json").is_file()
    (tmp_path / "notes.json").write_text(json.dumps(NOTES))
    script = textwrap.dedent(
        f"""
        import json, sys, spacy
        from extractor import Extractor
        nlp = spacy.load({str(tmp_path / "nlp")!r})
        notes = json.load(open({str(tmp_path / "notes.json")!r}))
        print(json.dumps([Extractor(nlp=nlp).extract(n, note_id=str(i)).to_dict() for i, n in enumerate(notes)]))
        """
    )
    run = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    expected = [Extractor().extract(n, note_id=str(i)).to_dict() for i, n in enumerate(NOTES)]
    assert json.loads(run.stdout) == json.loads(json.dumps(expected))
    assert any(r["procedures"] for r in expected)


def test_saved_rules_are_the_ones_loaded(tmp_path):
    nlp = build_pipeline()
    targets = nlp.get_pipe("spinecode_targets")
    nlp.to_disk(tmp_path / "nlp")
    saved = json.loads((tmp_path / "nlp" / "spinecode_targets" / "rules.json").read_text())["target_rules"]
    assert len(saved) == len(targets.rules)
    assert all("<level>" not in rule["pattern"] for rule in saved if isinstance(rule.get("pattern"), str))
    # a saved pipeline uses its saved rules, not the installed files: drop one rule and reload
    kept = [rule for rule in saved if rule["category"] != "BIOPSY"]
    (tmp_path / "nlp" / "spinecode_targets" / "rules.json").write_text(json.dumps({"target_rules": kept}))
    reloaded = spacy.load(tmp_path / "nlp")
    assert "BIOPSY" not in {e.label_ for e in reloaded("Vertebroplasty of T12 with biopsy.").ents}
    assert "BIOPSY" in {e.label_ for e in nlp("Vertebroplasty of T12 with biopsy.").ents}


def test_loaded_pipeline_runs_with_two_processes(tmp_path):
    get_pipeline().to_disk(tmp_path / "nlp")
    nlp = spacy.load(tmp_path / "nlp")
    texts = NOTES * 3
    serial = [mention_view(doc) for doc in nlp.pipe(texts)]
    parallel = [mention_view(doc) for doc in nlp.pipe(texts, n_process=2, batch_size=2)]
    assert parallel == serial
    assert sum(len(v) for v in serial) > 20


def test_each_pipe_builds_from_its_default_config():
    nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": "spinecode.ClinicalTokenizer.v1"}}})
    for pipe in PIPES:
        nlp.add_pipe(pipe)
    assert nlp.pipe_names == list(PIPES)
    doc = nlp("Kyphoplasty of T12. No biopsy.")
    assert {"PROC_AUG", "LEVEL", "BIOPSY"} <= {e.label_ for e in doc.ents}


def test_medspacy_modules_are_not_patched():
    get_pipeline()
    from medspacy.common import medspacy_matcher, regex_matcher
    from medspacy.context import context, context_graph

    assert medspacy_matcher.RegexMatcher is regex_matcher.RegexMatcher
    assert context.ConTextGraph is context_graph.ConTextGraph
