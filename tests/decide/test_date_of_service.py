"""The date of service a note states (labelled), not another event's date."""

from __future__ import annotations

import datetime as dt

import pytest

from extractor.decide.date_of_service import note_service_date, parse_written_date


@pytest.mark.parametrize(
    "note, expected",
    [
        ("DATE OF PROCEDURE: 05/02/2013\nPROCEDURE: vertebroplasty L1", dt.date(2013, 5, 2)),
        ("Procedure date: 2013-05-02", dt.date(2013, 5, 2)),
        ("Name: [NAME] | MRN: 123 | DOS: 3/14/16 | Location: IR", dt.date(2016, 3, 14)),
        ("Date of service - May 2, 2013", dt.date(2013, 5, 2)),
        ("Date of exam: 2 May 2013", dt.date(2013, 5, 2)),
        ("Date of procedure: 25/02/2013 (UK)", dt.date(2013, 2, 25)),
        # a birth date and a dictation date beside it are not the service date
        ("DOB: 01/02/1940   Date of procedure: 06/30/2014   Dictated: 07/02/2014", dt.date(2014, 6, 30)),
    ],
)
def test_labelled_service_date(note, expected):
    found = note_service_date(note)
    assert found is not None and found[0] == expected
    _, evidence = found
    assert note[evidence.start : evidence.end] == evidence.text


@pytest.mark.parametrize(
    "note",
    [
        "DOB: 05/02/1940. Kyphoplasty at L1 today.",
        "Dictated: 05/03/2013",
        "History: prior procedure date 01/02/2011, vertebroplasty T12.",  # an older prior procedure
        "Date of injury: 04/01/2013",
        "Date of procedure: [DATE]",
        "Date of procedure: 02/30/2013",  # no such day
        "Date of procedure: 05/02/2013 ... Procedure date: 05/09/2013",  # two dates: the caller must say
    ],
)
def test_no_service_date(note):
    assert note_service_date(note) is None


def test_a_prior_procedure_date_does_not_hide_the_service_date():
    note = "DATE OF PROCEDURE: 2013-05-02\nHISTORY: prior vertebroplasty, procedure date 2009-01-10."
    assert note_service_date(note)[0] == dt.date(2013, 5, 2)


@pytest.mark.parametrize("text, expected", [("3/14/16", dt.date(2016, 3, 14)), ("1/2/99", dt.date(1999, 1, 2)),
                                            ("Sept. 9, 2017", dt.date(2017, 9, 9)), ("9th March 2015", dt.date(2015, 3, 9))])
def test_written_dates(text, expected):
    assert parse_written_date(text) == expected
