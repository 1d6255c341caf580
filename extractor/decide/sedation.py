"""Sedation and anesthesia of this session (coding-rules 0.1): level, who gave it, an independent
observer, intraservice minutes, the patient's age. Cues are the entries of patterns/sedation.json.

A sentence speaks of this session unless its section is about another time (history, plan, ...) or
it says the sedation was planned, declined, discussed or a risk. Across sentences: the most intense
level documented wins ("after local anesthesia" beside "moderate sedation" is moderate); the minutes
are only an explicit sedation or intraservice time, or sedation start/stop clock times, never a
procedure or fluoroscopy time. Sedation the report documents without saying who gave it counts as
the proceduralist's (the report is theirs); an anesthesia provider is named, or implied by general
anesthesia or MAC. Contradictions (rule S9) are listed, not resolved.
"""

from __future__ import annotations

import re
from bisect import bisect_left

from ..facts import SEDATION_LEVELS, Evidence, SedationFacts
from ..lexicon import lexicon
from ..mentions import Sentence
from .section_roles import NOT_NOW_SECTIONS

# entry of patterns/sedation.json -> the level it documents, most intense last
LEVEL_CUES = (
    ("local_only", "local"),
    ("minimal_sedation", "minimal"),
    ("moderate_sedation", "moderate"),
    ("deep_sedation", "deep"),
    ("mac", "mac"),
    ("general_anesthesia", "general"),
)
ANESTHESIA_LEVELS = frozenset({"mac", "general"})  # given by an anesthesia provider by definition


# a template option whose box is empty ("[ ] MAC   [ ] General"): up to the next box or the line's end
_UNCHECKED_OPTION = re.compile(r"\[\s?\][^\[\n]*")


def unchecked_options_blanked(chunk: str) -> str:
    """The chunk with the options of empty template boxes blanked (same length): "[x] Moderate  [ ] MAC"
    documents moderate sedation, not MAC."""
    if "[" not in chunk:  # most sentences have no box: spare the regex
        return chunk
    return _UNCHECKED_OPTION.sub(lambda m: " " * len(m.group()), chunk)


# the entries searched in every sedation sentence, screened together (lexicon.Screen)
SCREENED = tuple(entry for entry, _ in LEVEL_CUES) + (
    "not_this_session", "sedative_drug", "propofol", "by_anesthesia", "by_other_provider", "by_proceduralist",
    "sedation_content", "observer", "observer_also_assisted", "sedation_minutes", "other_minutes", "bare_minutes",
    "sedation_clock", "sedation_start_clock", "sedation_stop_clock")

MAX_SEDATION_MINUTES = 240  # a longer span between two clock times is a misread, not a sedation


def _clock_minutes(start: str, stop: str) -> int | None:
    def minutes(clock: str) -> int | None:
        digits = clock.replace(":", "").replace("h", "").replace("H", "")  # 09:12, 0912, 09h12
        if len(digits) not in (3, 4):
            return None
        hours, mins = int(digits[:-2]), int(digits[-2:])
        return hours * 60 + mins if hours < 24 and mins < 60 else None

    a, b = minutes(start), minutes(stop)
    if a is None or b is None:
        return None
    span = (b - a) % (24 * 60)
    return span if 0 < span <= MAX_SEDATION_MINUTES else None


def _group(match: re.Match, *names: str) -> str | None:
    for name in names:
        if name in match.re.groupindex and match.group(name):
            return match.group(name)
    return None


class WordSpots:
    """Where the words of a `*_words` entry occur in the whole text (any case), found once: a sentence
    holding none of them cannot match the regex whose matches all hold one, and is not searched. Only for
    ASCII text, where lower-casing keeps every offset and agrees with IGNORECASE; otherwise every sentence
    may hold them."""

    def __init__(self, words: tuple[str, ...], text: str):
        self.starts: list[int] | None = None
        if text.isascii():
            low = text.lower()
            starts = []
            for word in words:
                at = low.find(word)
                while at >= 0:
                    starts.append(at)
                    at = low.find(word, at + 1)
            self.starts = sorted(starts)

    def in_span(self, start: int, end: int) -> bool:
        if self.starts is None:
            return True
        k = bisect_left(self.starts, start)
        return k < len(self.starts) and self.starts[k] < end


def sedation_facts(sentences: list[Sentence], text: str, normalized: str | None = None) -> SedationFacts:
    """Cues are matched in `normalized` (same length as `text`; "1O:14" read as 10:14), evidence quotes `text`."""
    reading = normalized if normalized is not None and len(normalized) == len(text) else text
    cues = lexicon("sedation")
    facts = SedationFacts()
    levels: list[str] = []
    providers: set[str] = set()
    stated_minutes: list[int] = []
    clock_minutes: list[int] = []
    observer_also_assisted = False
    lone_starts: list[tuple[re.Match, Sentence]] = []
    lone_stops: list[tuple[re.Match, Sentence]] = []

    def keep(match: re.Match, offset: int, label: str, section) -> None:
        start, end = offset + match.start(), offset + match.end()
        if not any(e.start == start and e.end == end for e in facts.evidence):
            facts.evidence.append(Evidence(start, end, text[start:end], label, section))

    def observed(match: re.Match, sentence: Sentence) -> None:
        facts.observer = True
        keep(match, sentence.start, "SEDATION_OBSERVER", sentence.section)

    paragraph = None  # the index of the sedation sentence just read: the next one may go on about it
    screen = cues.screen(SCREENED)
    age_spots = WordSpots(cues.words("age_words"), reading)
    topic_spots = WordSpots(cues.words("sedation_topic_words"), reading)
    for sentence in sentences:
        chunk = unchecked_options_blanked(reading[sentence.start : sentence.end])
        age = (cues.regex("age").search(chunk)  # the first age read counts
               if facts.age_years is None and age_spots.in_span(sentence.start, sentence.end) else None)
        if age:
            years = _group(age, "years", "years2", "years3")
            facts.age_years = int(years) if years else 0
        if (not topic_spots.in_span(sentence.start, sentence.end) or not cues.regex("sedation_topic").search(chunk)
                or sentence.section in NOT_NOW_SECTIONS):
            # "Midazolam 2 mg IV. Nurse Lee monitored SpO2 and ECG throughout.": the observer of the sedation
            # just described, in a sentence of its own
            observer = screen.searcher(chunk)("observer") if paragraph == sentence.index - 1 else None
            if observer and sentence.section not in NOT_NOW_SECTIONS:
                observed(observer, sentence)
            paragraph = None
            continue
        paragraph = sentence.index
        search = screen.searcher(chunk)
        if search("not_this_session"):
            continue
        found_level = None
        for entry, level in LEVEL_CUES:
            match = search(entry)
            if match:
                found_level = level
                levels.append(level)
                keep(match, sentence.start, "SEDATION", sentence.section)
        drug = search("sedative_drug")
        if drug:
            facts.sedative_given = True
            keep(drug, sentence.start, "SEDATION", sentence.section)
        facts.propofol |= bool(search("propofol"))
        for entry, provider in (("by_anesthesia", "anesthesia"), ("by_other_provider", "other_provider"),
                                ("by_proceduralist", "proceduralist")):
            match = search(entry)
            if match and (found_level or drug or search("sedation_content")):
                providers.add(provider)
                keep(match, sentence.start, "SEDATION_PROVIDER", sentence.section)
        observer = search("observer")
        if found_level in (None, "local") and not drug and not search("sedation_content"):
            # anesthesia words without sedation content (e.g. "local anesthesia" for a needle); a sentence of its
            # own naming the "independent trained observer" is about sedation all the same
            if observer and "observer" in observer.group().lower():
                observed(observer, sentence)
            continue
        if observer:
            observed(observer, sentence)
        observer_also_assisted |= bool(search("observer_also_assisted"))
        minutes = search("sedation_minutes")
        if minutes:
            stated_minutes.append(int(_group(minutes, "min", "min2", "min3")))
            keep(minutes, sentence.start, "SEDATION_TIME", sentence.section)
        elif search("sedation_content") and not search("other_minutes"):
            bare = search("bare_minutes")
            if bare:
                stated_minutes.append(int(bare.group("min")))
                keep(bare, sentence.start, "SEDATION_TIME", sentence.section)
        clock = search("sedation_clock")
        if clock:
            span = _clock_minutes(_group(clock, "start", "start2"), _group(clock, "stop", "stop2"))
            if span is not None:
                clock_minutes.append(span)
                keep(clock, sentence.start, "SEDATION_TIME", sentence.section)
        else:  # "Sedation start 08:12. Sedation end 08:47.": a start and a stop in sentences of their own
            for entry, found in (("sedation_start_clock", lone_starts), ("sedation_stop_clock", lone_stops)):
                match = search(entry)
                if match:
                    found.append((match, sentence))

    if not clock_minutes and len(lone_starts) == 1 and len(lone_stops) == 1:
        (start, s_start), (stop, s_stop) = lone_starts[0], lone_stops[0]
        span = _clock_minutes(_group(start, "start", "start2", "start3"), _group(stop, "stop", "stop2", "stop3"))
        if span is not None:
            clock_minutes.append(span)
            keep(start, s_start.start, "SEDATION_TIME", s_start.section)
            keep(stop, s_stop.start, "SEDATION_TIME", s_stop.section)

    if levels:
        facts.level = max(levels, key=SEDATION_LEVELS.index)
    if facts.level in ANESTHESIA_LEVELS:
        providers.add("anesthesia")
    if observer_also_assisted:
        facts.observer = False
    if "anesthesia" in providers and "proceduralist" in providers and "moderate" in levels:
        facts.conflicts.append("sedation by the anesthesia team and by the proceduralist are both documented")
    if facts.level == "moderate" and facts.propofol and "anesthesia" not in providers:
        facts.conflicts.append("moderate sedation with propofol by a provider who is not an anesthesia provider")
    if "anesthesia" in providers:
        facts.given_by = "anesthesia"
    elif "other_provider" in providers:
        facts.given_by = "other_provider"
    elif "proceduralist" in providers or facts.level in ("minimal", "moderate", "deep"):
        # sedation a procedure report documents without naming who gave it is the proceduralist's
        facts.given_by = "proceduralist"
    times = sorted(set(stated_minutes) | set(clock_minutes))
    if len(times) > 1:
        facts.conflicts.append(f"two different sedation times are documented ({', '.join(map(str, times))} minutes)")
    elif times:
        facts.minutes = times[0]
        facts.minutes_source = "stated" if stated_minutes else "clock"
    facts.evidence.sort(key=lambda e: (e.start, e.end))
    return facts
