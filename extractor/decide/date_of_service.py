"""The date of service a note states: a labelled date of the procedure, service, exam or operation
(patterns/dates.json), never a birth, dictation, admission or prior-event date. Used when the caller
gives none. Slash dates read month first (US) unless the first number cannot be a month; two-digit
years are 19xx from 50 on. Two different labelled dates: none is chosen (the caller must say).
"""

from __future__ import annotations

import datetime as dt
import re

from ..facts import Evidence
from ..lexicon import lexicon

MONTHS = {m: i + 1 for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                          "nov", "dec"])}
# the text just before a label that can still turn it into another event's date ("prior procedure date")
LOOK_BACK = 30
FIELD_BREAK = re.compile(r"[|\t\n]| {3,}")


def parse_written_date(text: str) -> dt.date | None:
    text = text.strip().lower().rstrip(".")
    try:
        if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text):
            return dt.date(*map(int, text.split("-")))
        parts = re.split(r"[/.-]", text)
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            a, b, year = map(int, parts)
            if len(parts[2]) == 2:
                year += 1900 if year >= 50 else 2000
            month, day = (a, b) if a <= 12 else (b, a)
            return dt.date(year, month, day)
        words = re.findall(r"[a-z]+|\d+", text)
        numbers = [int(w) for w in words if w.isdigit()]
        month = next((MONTHS[w[:3]] for w in words if w[:3] in MONTHS), None)
        if month and len(numbers) == 2:
            day, year = (numbers[0], numbers[1]) if numbers[1] > 31 else (numbers[1], numbers[0])
            return dt.date(year, month, day)
    except ValueError:
        return None
    return None


def note_service_date(text: str) -> tuple[dt.date, Evidence] | None:
    cues = lexicon("dates")
    found: list[tuple[dt.date, Evidence]] = []
    for match in cues.finditer("service_date", text):
        before = text[max(0, match.start() - LOOK_BACK) : match.start()]
        before = FIELD_BREAK.split(before)[-1]
        if cues.regex("not_service_date").search(before + match.group(0)):
            continue
        day = parse_written_date(match.group("date"))
        if day is None:
            continue
        start, end = match.start("date"), match.end("date")
        found.append((day, Evidence(start, end, text[start:end], "DATE_OF_SERVICE")))
    if not found or len({day for day, _ in found}) > 1:
        return None
    return found[0]
