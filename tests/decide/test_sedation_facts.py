"""Sedation facts of a note (extractor/decide/sedation.py), one phenomenon per example."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import pytest

from extractor.decide.sedation import WordSpots, sedation_facts
from extractor.lexicon import lexicon
from extractor.mentions import doc_to_sentences
from extractor.pipeline import get_pipeline
from extractor.text import normalize


def read(note: str):
    facts = sedation_facts(doc_to_sentences(get_pipeline()(normalize(note)), note), note)
    for e in facts.evidence:
        assert note[e.start : e.end] == e.text
    return facts


@pytest.mark.parametrize(
    "note, level, given_by, observer, minutes, source",
    [
        ("Moderate sedation by me, RN observer monitoring, sedation 10:02-10:41.", "moderate", "proceduralist", True, 39,
         "clock"),
        ("Moderate sedation was given by the IR nurse under my supervision with continuous monitoring; intraservice "
         + "time was 22 minutes.", "moderate", "proceduralist", True, 22, "stated"),
        ("Conscious sedation: fentanyl and midazolam, 25 minutes, monitored by nursing.", "moderate", "proceduralist",
         True, 25, "stated"),
        # a procedure time is not a sedation time
        ("Moderate sedation by me with an independent trained observer. Procedure time 45 minutes.", "moderate",
         "proceduralist", True, None, None),
        ("The patient was placed under general endotracheal anesthesia.", "general", "anesthesia", False, None, None),
        ("L1 balloon kyphoplasty under fluoro, MAC by anesthesia.", "mac", "anesthesia", False, None, None),
        ("Local with IV sedation by the anesthesia service.", "moderate", "anesthesia", False, None, None),
        ("PRONE, LOCAL 1% LIDOCAINE, NO SEDATION.", "local", None, False, None, None),
        ("Deep sedation by the radiologist.", "deep", "proceduralist", False, None, None),
        # phenomenon: the kind in parentheses, an observer sentence of its own, a European clock
        (("Moderate (conscious) sedation by me. RN Lee was the independent trained observer. Start of the "
          "sedation: 09h12. End of the sedation: 09h47."), "moderate", "proceduralist", True, 35, "clock"),
        # the nurse who monitored, in the sentence after the sedation's
        (("IV moderate sedation by the operator: midazolam 2 mg. Nurse Kim monitored SpO2, ECG and BP throughout "
          "and had no other role. Sedation start 13:32, end 14:14."), "moderate", "proceduralist", True, 42, "clock"),
        # an export's key=value fields with ISO 8601 times
        (("SEDATION=Moderate sedation by me, administered by [NAME], RN, who monitored the patient.\n"
          "SEDATION_START=2023-03-14T09:14:00-05:00\nSEDATION_END=2023-03-14T09:52:00-05:00"), "moderate",
         "proceduralist", True, 38, "clock"),
        # monitoring every 5 minutes is not a sedation time
        ("Moderate sedation by me, RN observer; NIBP q5 min. Sedation start 10:02, sedation end 10:41.",
         "moderate", "proceduralist", True, 39, "clock"),
    ],
)
def test_sedation_of_the_session(note, level, given_by, observer, minutes, source):
    facts = read(note)
    assert (facts.level, facts.given_by, facts.observer, facts.minutes, facts.minutes_source) == (
        level, given_by, observer, minutes, source)
    assert not facts.conflicts


@pytest.mark.parametrize(
    "note",
    [
        "Plan: reschedule L4 vertebroplasty under general anesthesia.",
        "GA felt to be high risk today given active wheezing, and pt declined.",
        "Denies LE weakness, saddle anesthesia, bowel/bladder symptoms.",
        "After local anesthesia, an 11 G needle was advanced into L2.",
    ],
)
def test_not_sedation_of_this_session(note):
    facts = read(note)
    assert facts.level in (None, "local") and facts.given_by is None and facts.minutes is None


def test_two_sedation_times_conflict():
    facts = read("Moderate sedation by me, RN monitoring. Intraservice time 22 minutes. Sedation time: 40 minutes.")
    assert facts.minutes is None and facts.conflicts


def test_propofol_moderate_sedation_by_a_nurse_conflicts():
    facts = read("Moderate sedation with propofol administered by the procedure nurse, with monitoring.")
    assert facts.conflicts and facts.propofol


def test_an_observer_who_also_assisted_is_not_independent():
    facts = read("Moderate sedation by me; the RN monitored the patient and also assisted with the procedure; "
                 "intraservice time 30 minutes.")
    assert facts.observer is False and facts.minutes == 30


def test_age_and_drugs_without_a_level():
    facts = read("78-year-old woman. Fentanyl/midazolam for comfort, administered by nursing.")
    assert facts.age_years == 78 and facts.level is None and facts.sedative_given


@pytest.mark.parametrize("note, level, observer, minutes, source", [
    # phenomenon: a template's empty boxes are options not chosen
    (("SEDATION:  [x] Moderate (conscious)   [ ] MAC   [ ] General   [ ] Local only\nModerate sedation by me "
      "with an independent trained observer; intraservice time 25 minutes."), "moderate", True, 25, "stated"),
    # phenomenon: a nurse named as giving the sedation is the observer (coding-rules 0.1)
    (("Moderate sedation ordered and supervised by me, administered by Olivia Tran, RN (midazolam 3 mg and "
      "fentanyl 125 mcg IV total, divided doses). Intraservice sedation time: 52 minutes."), "moderate", True, 52,
     "stated"),
    # phenomenon: the start and the stop in sentences of their own
    ("Moderate sedation by me with an independent trained observer. Sedation start 08:12. Sedation end 08:47.",
     "moderate", True, 35, "clock"),
])
def test_template_boxes_named_nurses_and_split_clock_times(note, level, observer, minutes, source):
    facts = read(note)
    assert (facts.level, facts.observer, facts.minutes, facts.minutes_source) == (level, observer, minutes, source)


def test_a_sedation_flowsheet_writes_the_time_first():
    # phenomenon: whitespace-aligned flowsheet rows, time column first; a blood pressure is not a clock time
    facts = read("Moderate sedation by me with an independent trained observer.\n"
                 "TIME    EVENT / MED          BP\n"
                 "1402    SEDATION START       144/82\n"
                 "1408    FENTANYL 25 MCG IV   136/80\n"
                 "1419    SEDATION END         134/80\n")
    assert (facts.minutes, facts.minutes_source) == (17, "clock")


# -- the word lists that spare sentences the sentence regexes (speed only: they must never hide a match)

_CORPORA = Path(__file__).resolve().parents[2] / "corpora"
ENTRIES = {("sedation", name): entry for name, entry in json.loads(
    (files("extractor.patterns") / "sedation.json").read_text(encoding="utf-8"))["lexicons"].items()}
_WORD_LISTS = [("age_words", "age"), ("sedation_topic_words", "sedation_topic")]


@pytest.mark.parametrize("words, regex", _WORD_LISTS)
def test_every_match_of_the_regex_holds_one_of_its_words(words, regex):
    cues = lexicon("sedation")
    listed = [w.lower() for w in cues.words(words)]
    entry_examples = ENTRIES["sedation", regex]["examples"]["match"]
    texts = entry_examples + [p.read_text(encoding="utf-8") for p in sorted(_CORPORA.glob("*/*.txt"))]
    found = 0
    for text in texts:
        for match in cues.regex(regex).finditer(text):
            found += 1
            assert any(w in match.group().lower() for w in listed), f"{regex} match without a word of {words}"
    assert found > 50


def test_word_spots_say_which_spans_hold_a_word():
    spots = WordSpots(("sedat", "ga"), "No pain. Moderate SEDATION given. Gauge 11.")
    assert not spots.in_span(0, 8) and spots.in_span(9, 33) and spots.in_span(34, 43)
    assert not spots.in_span(20, 26)  # "SEDATION" starts before this span
    # not ASCII: lower-casing may move offsets or disagree with IGNORECASE, so every span may hold a word
    assert WordSpots(("sedat",), "Pas de douleur. Hémostase.").in_span(0, 5)


def test_a_sentence_without_the_words_is_not_a_sedation_sentence_and_one_with_them_is():
    facts = read("Vertebroplasty at T12. Moderate sedation with midazolam by me, 30 minutes of intraservice time.")
    assert facts.level == "moderate" and facts.minutes == 30
    assert read("Vertebroplasty at T12 with an 11 gauge needle.").level is None
