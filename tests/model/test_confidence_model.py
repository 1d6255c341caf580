"""The confidence model (extractor/model.py) and the confidence/review combination (extractor/confidence.py).

Everything here runs on a tiny synthetic corpus (tests/model/conftest.py) and on hand-written facts:
no spaCy pipeline, no shared data.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from model_helpers import FAST_GRID, synthetic_note, write_corpus

from extractor import model as M
from extractor.coding import assign_codes
from extractor.concerns import Concern, ConcernCode
from extractor.confidence import RULE_ONLY_CAP, assess, score
from extractor.facts import LevelFacts, NoteFacts, NotTreated

REPO = Path(__file__).resolve().parents[2]

VP_TEXT, _ = synthetic_note(0)  # a vertebroplasty of T7 with a biopsy


def _vp_facts(**extra) -> NoteFacts:
    facts = NoteFacts(procedures=[LevelFacts("T7", "vertebroplasty", approach="unilateral", side="left",
                                             cement="pmma", biopsy=True, guidance="fluoroscopy")],
                      imaging=["fluoroscopy"], not_treated=[NotTreated("L2", "historical")])
    for k, v in extra.items():
        setattr(facts, k, v)
    return facts


def _agreeing_view(facts: NoteFacts) -> M.ModelView:
    treated = {p.level: p.technique for p in facts.procedures}
    view = M.ModelView(p_performed=0.99 if treated else 0.01)
    for level in list(treated) + [n.level for n in facts.not_treated]:
        view.p_level[level] = 0.99 if level in treated else 0.01
        view.p_biopsy[level] = 0.01
        if level in treated:
            view.p_technique[level] = {t: (0.98 if t == treated[level] else 0.01)
                                       for t in ("vertebroplasty", "augmentation", "sacroplasty")}
    return view


META = {"review_threshold": 0.8, "prior_accuracy": 0.95, "model_weight": 1.0,
        "base_rates": {"performed": 0.9, "level": 0.5, "biopsy": 0.15,
                       "technique": {"vertebroplasty": 0.45, "augmentation": 0.45, "sacroplasty": 0.1}}}


# ------------------------------------------------------------------------------------------ training


def test_training_is_deterministic(tmp_path, tiny_corpus):
    a, b = tmp_path / "a", tmp_path / "b"
    M.train(tiny_corpus, a, evaluate_rules=False, write_card=False, grid=FAST_GRID)
    M.train(tiny_corpus, b, evaluate_rules=False, write_card=False, grid=FAST_GRID)
    assert (a / M.MODEL_FILE).read_bytes() == (b / M.MODEL_FILE).read_bytes()
    assert M.sha256_of(a / M.MODEL_FILE) == M.sha256_of(b / M.MODEL_FILE)
    ma, mb = M.load_model(a), M.load_model(b)
    for head in M.HEADS:
        assert np.array_equal(ma.estimators[head][-1].coef_, mb.estimators[head][-1].coef_)
    assert ma.view(VP_TEXT) == mb.view(VP_TEXT)


def test_trained_model_writes_card_sidecar_and_holds_only_trusted_types(tiny_model):
    assert M.audit_types(tiny_model / M.MODEL_FILE) == []
    meta = json.loads((tiny_model / M.META_FILE).read_text())
    assert meta["sha256"] == M.sha256_of(tiny_model / M.MODEL_FILE)
    assert {"review_threshold", "base_rates", "versions", "hyperparameters"} <= set(meta)
    card = (tiny_model / "MODEL_CARD.md").read_text()
    for part in ("## Data", "## Features", "## Metrics", "## Reliability", "## Versions", "trained on"):
        assert part in card
    assert "PMMA cement was injected" not in card  # no note text


def test_model_view_reads_the_text(tiny_model):
    view = M.load_model(tiny_model).view(VP_TEXT)
    assert set(view.p_level) >= {"T7", "T10"}
    assert view.p_level["T7"] > view.p_level["T10"]  # T7 treated, T10 only in the history
    assert max(view.p_technique["T7"], key=view.p_technique["T7"].get) == "vertebroplasty"
    assert all(0.0 <= p <= 1.0 for p in list(view.p_level.values()) + list(view.p_biopsy.values()))


def test_level_finder_notations():
    found = {lv for m in M.find_levels("T-12, tea twelve, el one, twelfth thoracic, T11-L1, the sacrum, dens")
             for lv in m.levels}
    assert found == {"T11", "T12", "L1", "sacrum", "C2"}
    ranges = [m for m in M.find_levels("kyphoplasty T11-L1") if m.is_range]
    assert ranges and ranges[0].levels == ("T11", "T12", "L1")


# ------------------------------------------------------------------------------------------ loading


def test_tampered_model_file_is_refused(tmp_path, tiny_model):
    bad = tmp_path / "bad"
    shutil.copytree(tiny_model, bad)
    data = bytearray((bad / M.MODEL_FILE).read_bytes())
    data[len(data) // 2] ^= 0x01
    (bad / M.MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(M.ModelIntegrityError, match="SHA-256"):
        M.load_model(bad)


def test_model_without_sidecar_is_refused(tmp_path, tiny_model):
    bad = tmp_path / "bad"
    shutil.copytree(tiny_model, bad)
    (bad / M.META_FILE).unlink()
    with pytest.raises(M.ModelIntegrityError, match="sidecar"):
        M.load_model(bad)


def _write_with_sidecar(obj, folder: Path) -> Path:
    import skops.io as sio

    folder.mkdir(parents=True, exist_ok=True)
    sio.dump(obj, folder / M.MODEL_FILE)
    meta = {"sha256": M.sha256_of(folder / M.MODEL_FILE), "feature_version": M.FEATURE_VERSION,
            "review_threshold": 0.8}
    (folder / M.META_FILE).write_text(json.dumps(meta))
    return folder


def test_types_outside_the_trusted_list_are_refused(tmp_path):
    """A correct hash does not make a file trusted: a scikit-learn class skops itself would accept by
    default, and a function reference, are both refused because they are not on our explicit list."""
    from sklearn.preprocessing import FunctionTransformer
    from sklearn.tree import DecisionTreeClassifier

    tree = DecisionTreeClassifier(random_state=0).fit([[0], [1]], [0, 1])
    folder = _write_with_sidecar({h: tree for h in M.HEADS}, tmp_path / "tree")
    with pytest.raises(M.UntrustedModelError, match="DecisionTreeClassifier"):
        M.load_model(folder)

    func = FunctionTransformer(func=np.exp)
    folder = _write_with_sidecar({h: func for h in M.HEADS}, tmp_path / "func")
    with pytest.raises(M.UntrustedModelError, match="exp"):
        M.load_model(folder)


def test_not_a_skops_file_is_refused(tmp_path):
    folder = tmp_path / "junk"
    folder.mkdir()
    (folder / M.MODEL_FILE).write_bytes(b"not a zip file at all")
    (folder / M.META_FILE).write_text(json.dumps({"sha256": M.sha256_of(folder / M.MODEL_FILE),
                                                  "feature_version": M.FEATURE_VERSION}))
    with pytest.raises(M.ModelIntegrityError, match="not a readable skops file"):
        M.load_model(folder)


def test_model_is_loaded_once_per_process(monkeypatch, tiny_model):
    monkeypatch.setenv(M.MODEL_DIR_ENV, str(tiny_model))
    calls = []
    real = M.load_runtime
    monkeypatch.setattr(M, "load_runtime", lambda d=None: calls.append(d) or real(d))
    facts = _vp_facts()
    for _ in range(3):
        score(facts, assign_codes(facts), VP_TEXT)
    first, _ = M.get_model()
    second, _ = M.get_model()
    assert first is second and len(calls) == 1


def test_absent_model_falls_back_to_rules_with_a_warning(monkeypatch, tmp_path):
    monkeypatch.setenv(M.MODEL_DIR_ENV, str(tmp_path / "nowhere"))
    facts = _vp_facts()
    confidence, review, warnings = score(facts, assign_codes(facts), VP_TEXT)
    assert "confidence model not found; rule-based confidence only" in warnings
    assert review is True  # the model's agreement is part of the promise
    assert 0.0 <= confidence <= RULE_ONLY_CAP


def test_tampered_model_at_extraction_falls_back_with_the_reason(monkeypatch, tmp_path, tiny_model):
    bad = tmp_path / "bad"
    shutil.copytree(tiny_model, bad)
    (bad / M.MODEL_FILE).write_bytes((bad / M.MODEL_FILE).read_bytes() + b"x")
    monkeypatch.setenv(M.MODEL_DIR_ENV, str(bad))
    facts = _vp_facts()
    _, review, warnings = score(facts, assign_codes(facts), VP_TEXT)
    assert review is True
    assert any("confidence model refused (ModelIntegrityError" in w for w in warnings)


def test_committed_model_matches_its_sidecar():
    folder = REPO / "models"
    if not (folder / M.MODEL_FILE).exists():
        pytest.skip("no committed model")
    model = M.load_model(folder)
    assert 0.0 < model.threshold < 1.0
    assert (folder / "MODEL_CARD.md").exists()


# ------------------------------------------------------------------------------------------ combination


@pytest.mark.parametrize("variant", ["clean", "aborted", "no_cement", "no_side", "sedation", "none", "five"])
def test_confidence_is_between_0_and_1(tiny_model, variant):
    model = M.load_model(tiny_model)
    facts = _vp_facts()
    if variant == "aborted":
        facts.not_treated.append(NotTreated("T8", "aborted"))
    elif variant == "no_cement":
        facts.procedures[0].cement = None
    elif variant == "no_side":
        facts.procedures[0].side = None
    elif variant == "sedation":
        facts.other_procedures = ["moderate sedation"]
    elif variant == "none":
        facts.procedures = []
    elif variant == "five":
        facts.procedures = [LevelFacts(lv, "augmentation", cement="pmma") for lv in ("T8", "T9", "T10", "T11", "T12")]
    for text in (VP_TEXT, synthetic_note(1)[0], synthetic_note(4)[0], None):
        view = model.view(text) if text else None
        a = assess(facts, assign_codes(facts), text, view, model.meta)
        assert 0.0 <= a.confidence <= 1.0
        assert isinstance(a.review, bool)


def test_review_whenever_facts_carry_a_concern_routed_to_review():
    facts = _vp_facts()
    facts.concerns = [Concern(ConcernCode.TREATED_AND_STOPPED, "T7: described as treated and also as negated",
                              ("T7",))]  # raised by extractor.decide.treated
    a = assess(facts, assign_codes(facts), VP_TEXT, _agreeing_view(facts), META)
    assert a.review is True and a.forced == facts.concerns
    assert "T7: described as treated and also as negated" in a.warnings


def test_the_message_does_not_route_only_the_code_does():
    facts = _vp_facts()
    facts.concerns = [Concern(ConcernCode.SIDE_NOT_STATED, "T7: described as treated and also as negated")]
    a = assess(facts, assign_codes(facts), VP_TEXT, _agreeing_view(facts), META)
    assert not a.forced and a.review is False


def test_needles_without_filler_force_review():
    facts = NoteFacts(not_treated=[NotTreated("T7", "aborted")], needle_only=True)
    a = assess(facts, assign_codes(facts), VP_TEXT, _agreeing_view(facts), META)
    assert a.review is True


def test_agreement_without_concerns_automates_and_disagreement_routes_to_review():
    facts = _vp_facts()
    agree = _agreeing_view(facts)
    a = assess(facts, assign_codes(facts), VP_TEXT, agree, META)
    assert a.review is False and a.confidence >= META["review_threshold"]

    disagree = _agreeing_view(facts)
    disagree.p_technique["T7"] = {"vertebroplasty": 0.02, "augmentation": 0.97, "sacroplasty": 0.01}
    b = assess(facts, assign_codes(facts), VP_TEXT, disagree, META)
    assert b.review is True and b.confidence < a.confidence
    assert any("model disagrees on the technique of T7" in w for w in b.warnings)

    missed = _agreeing_view(facts)
    missed.p_level["L2"] = 0.99  # the model reads L2 as treated now; the rules say historical
    c = assess(facts, assign_codes(facts), VP_TEXT, missed, META)
    assert c.review is True and any("model disagrees on L2" in w for w in c.warnings)


def test_out_of_scope_procedure_routes_to_review():
    # coding-rules.md part 0: ablation, fusion, sedation are not coded by spinecode; a coder adds them
    facts = _vp_facts(other_procedures=["moderate sedation"])
    coding = assign_codes(facts)
    assert coding.review
    a = assess(facts, coding, VP_TEXT, _agreeing_view(facts), META)
    assert a.review is True and a.forced
    assert any(w.startswith("out of scope, not coded: moderate sedation") for w in a.warnings)


def test_unknown_code_mapper_review_reason_forces_review():
    facts = _vp_facts()
    coding = assign_codes(facts)
    coding.review = True  # the mapper asks for review without a concern routed to review
    a = assess(facts, coding, VP_TEXT, _agreeing_view(facts), META)
    assert a.review is True and [c.code for c in a.forced] == [ConcernCode.MAPPER_ASKS_REVIEW]


def test_aborted_level_and_range_only_level_lower_the_confidence():
    facts = _vp_facts()
    base = assess(facts, assign_codes(facts), VP_TEXT, _agreeing_view(facts), META).confidence
    aborted = _vp_facts()
    aborted.not_treated.append(NotTreated("T8", "aborted"))
    view = _agreeing_view(aborted)
    assert assess(aborted, assign_codes(aborted), VP_TEXT, view, META).confidence < base

    text = "PROCEDURE: kyphoplasty T11-L1. Cement injected at T11 and at L1."
    ranged = NoteFacts(procedures=[LevelFacts(lv, "augmentation", cement="pmma") for lv in ("T11", "T12", "L1")])
    a = assess(ranged, assign_codes(ranged), text, _agreeing_view(ranged), META)
    assert any("T12: treated only through the range T11-L1" in w for w in a.warnings)
    assert a.factors["level T12"] < a.factors["level T11"]


def test_cli_train_refuses_an_evaluation_split(tmp_path):
    from typer.testing import CliRunner

    from extractor.cli import app

    write_corpus(tmp_path / "test", n=3)
    result = CliRunner().invoke(app, ["train", str(tmp_path / "test"), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2
    assert not (tmp_path / "m" / M.MODEL_FILE).exists()
