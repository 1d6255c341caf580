"""FastConTextGraph must give the stock medspaCy ConTextGraph's modifiers, scopes and edges."""

from pathlib import Path

import pytest
from medspacy.context.context_graph import ConTextGraph

from extractor.pipeline import get_pipeline
from extractor.pipeline.medspacy_patches.context_graph import FastConTextGraph
from extractor.text import normalize

ROOT = Path(__file__).resolve().parents[2]


def graph_view(doc):
    graph = doc._.context_graph
    modifiers = [(m.modifier_span, m.scope_span, m.category, len(m._targets)) for m in graph.modifiers]
    edges = [((t.start, t.end), m.modifier_span, m.category) for t, m in graph.edges]
    flags = [(e.start, e.end, e._.is_negated, e._.is_historical, e._.is_hypothetical) for e in doc.ents]
    return modifiers, edges, flags


def texts():
    paths = sorted((ROOT / "corpora").glob("*/*.txt")) + sorted((ROOT / "examples").glob("*.txt"))
    return [normalize(p.read_text(encoding="utf-8")) for p in paths] + [
        "No vertebroplasty at T12, but L1 was treated; no biopsy. Prior kyphoplasty at L2.",
        "T12 and L1: no cement leak. Planned L3 vertebroplasty will be considered.",
    ]


def test_fast_graph_equals_stock_graph(monkeypatch):
    nlp = get_pipeline()
    all_texts = texts()
    assert len(all_texts) > 100
    context = nlp.get_pipe("spinecode_context")
    monkeypatch.setattr(context, "graph_class", ConTextGraph)
    stock = [graph_view(doc) for doc in nlp.pipe(all_texts)]
    monkeypatch.setattr(context, "graph_class", FastConTextGraph)
    fast = [graph_view(doc) for doc in nlp.pipe(all_texts)]
    assert sum(len(edges) for _, edges, _ in stock) > 500  # the corpora exercise the graph
    for text_index, (expected, got) in enumerate(zip(stock, fast)):
        assert got == expected, text_index


def test_pipeline_uses_the_fast_graph():
    doc = get_pipeline()("Vertebroplasty at T12. No biopsy.")
    assert isinstance(doc._.context_graph, FastConTextGraph)


@pytest.mark.parametrize("targets_sorted", [True, False])
def test_unsorted_targets_fall_back_to_the_stock_loop(targets_sorted):
    nlp = get_pipeline()
    doc = nlp("No vertebroplasty at T12. Kyphoplasty at L1 without cement leak.")
    graph = doc._.context_graph
    targets = list(doc.ents) if targets_sorted else list(reversed(doc.ents))
    expected = {(t.start, m.modifier_span) for t, m in graph.edges}
    for modifier in graph.modifiers:
        modifier._targets, modifier._num_targets = [], 0
    rebuilt = FastConTextGraph(targets=targets, modifiers=list(graph.modifiers), prune_on_modifier_overlap=False)
    rebuilt.apply_modifiers()
    assert {(t.start, m.modifier_span) for t, m in rebuilt.edges} == expected


def test_idle_scope_ends_are_not_built_and_change_nothing(monkeypatch):
    """Scope ends (TERMINATE, CLAUSE_END) of a sentence with no other modifier are left out: the same edges
    and flags as building every one."""
    from extractor.pipeline.context import context as context_module

    nlp = get_pipeline()
    all_texts = texts()
    kept = [graph_view(doc)[1:] for doc in nlp.pipe(all_texts)]
    monkeypatch.setattr(context_module, "_without_idle_scope_ends", lambda doc, matches, max_scope: matches)
    every = [graph_view(doc)[1:] for doc in nlp.pipe(all_texts)]
    for text_index, (expected, got) in enumerate(zip(every, kept)):
        assert got == expected, text_index


def test_scope_ends_kept_only_where_a_modifier_needs_them():
    doc = get_pipeline()("Access at T12, left side, 11 gauge. No cement at L1, but T12 was filled.")
    ends = [doc[m.modifier_span[0]].sent.start for m in doc._.context_graph.modifiers
            if m.category in ("CLAUSE_END", "TERMINATE")]
    second = list(doc.sents)[1].start
    assert ends and all(start == second for start in ends)  # the commas of the first sentence end nothing
