"""The model's own reading of the note text (extractor/review/features.py) and the view it gives."""

from __future__ import annotations

from review_helpers import VP_TEXT

from extractor.review import features, runtime


def test_model_view_reads_the_text(tiny_model):
    view = runtime.load_model(tiny_model).view(VP_TEXT)
    assert set(view.p_level) >= {"T7", "T10"}
    assert view.p_level["T7"] > view.p_level["T10"]  # T7 treated, T10 only in the history
    assert max(view.p_technique["T7"], key=view.p_technique["T7"].get) == "vertebroplasty"
    assert all(0.0 <= p <= 1.0 for p in list(view.p_level.values()) + list(view.p_biopsy.values()))


def test_level_finder_notations():
    found = {lv for m in features.find_levels("T-12, tea twelve, el one, twelfth thoracic, T11-L1, the sacrum, dens")
             for lv in m.levels}
    assert found == {"T11", "T12", "L1", "sacrum", "C2"}
    ranges = [m for m in features.find_levels("kyphoplasty T11-L1") if m.is_range]
    assert ranges and ranges[0].levels == ("T11", "T12", "L1")


def test_a_given_normal_form_is_read_as_the_note_would_be():
    # the pipeline's Doc holds the note's normal form: the model reads it instead of normalising again
    from extractor.text import normalize

    noisy = "PROCEDURE:\\nVertebroplasty at Tl2 comma 2.O mL PMMA period\\nHISTORY:\\nT9 kyphoplasty in 2019 period"
    assert features.featurize(noisy, normalize(noisy)) == features.featurize(noisy)
    # the given form is what is read, not the text
    assert features.featurize("", normalize(noisy)) == features.featurize(noisy)
    assert features.featurize(noisy, "") != features.featurize(noisy)
