"""Reading and normalising note text while keeping every character offset.

Normalisation keeps the length: one character for one, and spoken punctuation of raw dictation
("full stop") as its mark padded with spaces, so an offset into the normalised text is the same offset
into the text the caller gave us (`text[start:end] == evidence.text`).
"""

from __future__ import annotations

import re

# Characters that real exports carry and that would otherwise break rules: carriage returns
# (CRLF exports), tabs, non-breaking and other odd spaces, smart quotes and dashes, bullets.
_ONE_FOR_ONE = {
    "\r": " ",
    "\t": " ",
    "\u00a0": " ",
    "\u2007": " ",
    "\u202f": " ",
    "\u2009": " ",
    "\u200b": " ",
    "\ufeff": " ",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u2022": "*",
    "\u25cf": "*",
    "\u25aa": "*",
    "\u00b7": "*",
    "\u2713": "X",
    "\u2714": "X",
    "\u2611": "X",
    "\u2612": "X",
    "\u2610": " ",
    "\u00d7": "x",
}
_TABLE = str.maketrans(_ONE_FOR_ONE)

# Raw speech recognition spells punctuation out ("biopsy full stop new paragraph procedure colon ...").
# Each spoken mark (with the spaces before it) becomes the mark padded with spaces to the same length, so
# offsets hold; a paragraph ends its line. Only in notes that say such marks often: "comma" or "colon"
# in a typed note is a word.
_SPOKEN_MARKS = (
    (re.compile(r"[ \t]*\bnew\s+paragraph\b[ \t]*", re.IGNORECASE), "\n\n"),
    (re.compile(r"[ \t]*\bnew\s+line\b[ \t]*", re.IGNORECASE), "\n"),
    (re.compile(r"[ \t]+(?:full\s+stop|period)\b(?=\s|$)", re.IGNORECASE), "."),
    (re.compile(r"[ \t]+comma\b", re.IGNORECASE), ","),
    (re.compile(r"(?<!sigmoid)(?<!transverse)(?<!ascending)(?<!descending)[ \t]+colon\b", re.IGNORECASE), ":"),
    (re.compile(r"[ \t]+semicolon\b", re.IGNORECASE), ";"),
)
# written to start with its first letter, so that re skips ahead to it (same matches as
# r"\b(?:full\s+stop|new\s+paragraph|new\s+line)\b", IGNORECASE)
_SPOKEN_CUE = re.compile(r"[fFnN](?<=\b[fFnN])(?:(?i:ull\s+stop)|(?i:ew\s+(?:paragraph|line)))\b")
SPOKEN_MARKS_MIN = 3  # "full stop" / "new paragraph" said this often: the note is raw dictation


def _mark(match: re.Match, mark: str) -> str:
    """The mark, padded to the matched length: spaces before a line break, after a stop."""
    pad = " " * (len(match.group()) - len(mark))
    return pad + mark if mark.startswith("\n") else mark + pad


def spoken_punctuation(text: str) -> str:
    """Spoken punctuation written as marks, same length; the text as it is when it is not raw dictation."""
    if len(_SPOKEN_CUE.findall(text)) < SPOKEN_MARKS_MIN:
        return text
    for pattern, mark in _SPOKEN_MARKS:
        text = pattern.sub(lambda m, mark=mark: _mark(m, mark), text)
    return text


# Exports that carry their line breaks as markup: an HL7 message's "~" and "\.br\", a CSV or JSON cell's
# escaped "\n", RTF's control words. Each is detected by its own signature, then written as spaces
# ending in a line break, same length, so headings start lines again.
_HL7 = re.compile(r"(?:^|\n)\s*MSH\||(?:^|[\n|])OBX\|")
_HL7_BREAK = re.compile(r"\\\.br\\|~")
_ESCAPED_BREAK = re.compile(r"\\r\\n|\\n|\\r")
_ESCAPED_TAB = re.compile(r"\\t")
_RTF_CONTROL = re.compile(r"\\[a-z]+-?\d* ?|[{}]")
ESCAPED_BREAKS_MIN = 3  # escaped "\n" this often, and more than real line breaks: a cell of an export


def _breaks(match: re.Match) -> str:
    return " " * (len(match.group()) - 1) + "\n"


def export_line_breaks(text: str) -> str:
    """Line breaks written as markup by HL7, CSV/JSON cells or RTF, as real line breaks (same length)."""
    head = text[:2000]
    if ("MSH|" in head or "OBX|" in head) and _HL7.search(head):
        text = _HL7_BREAK.sub(_breaks, text)
    escaped = len(_ESCAPED_BREAK.findall(text))
    if escaped >= ESCAPED_BREAKS_MIN and escaped > text.count("\n"):
        text = _ESCAPED_TAB.sub("  ", _ESCAPED_BREAK.sub(_breaks, text))
    if text.lstrip().startswith("{\\rtf"):
        text = _RTF_CONTROL.sub(lambda m: _breaks(m) if m.group().startswith("\\par") else " " * len(m.group()), text)
    return text


# An export that lost its line breaks runs its headings inline, after the comma or stop that ended the
# field before ("...fracture.,PROCEDURE:,  Kyphoplasty", "... well.  FINDINGS:  ...", or a list's heading without
# its colon, "...C6-C7.,PROCEDURE PERFORMED,1.  Anterior ..."). In a note that does
# this more often than it starts lines, the separator before each ALL-CAPS heading becomes a line break
# (same length), so the sectioner sees headings at line starts again.
# each branch starts with its literal (a lookbehind first would make re try every position)
_INLINE_HEADING = re.compile(r"(?:,[ ]*|[ ](?<=[.;][ ])[ ]{0,3})(?=[A-Z][A-Z /&()'-]{2,60}(?::|,[ ]*1\.))")
INLINE_HEADINGS_MIN = 3


def _heading_break(match: re.Match) -> str:
    return " " * (len(match.group()) - 1) + "\n"  # the heading starts its line


def inline_headings(text: str) -> str:
    """Headings run inline by an export that lost its line breaks, each starting a line (same length)."""
    found = _INLINE_HEADING.findall(text)
    if len(found) < INLINE_HEADINGS_MIN or len(found) <= text.count("\n"):
        return text
    return _INLINE_HEADING.sub(_heading_break, text)


# An AI scribe or a wiki-like editor writes markdown: "**Procedure:** ...", a bold line alone as a heading
# ("**Indication**"), "## Plan". In a note that does this at least twice the marks become spaces (same length),
# and a bold line alone ends with a colon, so the sectioner reads the headings.
_MD_BOLD_LINE = re.compile(r"(?m)^([ \t]*)\*\*([^*\n]{1,60}?)\*\*([ \t]*)$")
_MD_BOLD = re.compile(r"\*\*(?=[^*\s])([^*\n]{1,120}?)(?<=[^*\s])\*\*")
_MD_ATX_HEADING = re.compile(r"(?m)^([ \t]*)(#{1,6})([ \t]+)(?=\S)")
MARKDOWN_MARKS_MIN = 2


def _bold_line(m: re.Match) -> str:
    words = m.group(2)
    if words.rstrip().endswith(":"):
        return m.group(1) + "  " + words + "  " + m.group(3)
    return m.group(1) + "  " + words + ": " + m.group(3)


def markdown_marks(text: str) -> str:
    """'**Procedure:** ...', '**Indication**' and '## Plan' read as plain headings (same length), when the
    note writes markdown at least twice."""
    if "**" not in text and "#" not in text:
        return text
    if len(_MD_BOLD.findall(text)) + len(_MD_ATX_HEADING.findall(text)) < MARKDOWN_MARKS_MIN:
        return text
    text = _MD_BOLD_LINE.sub(_bold_line, text)
    text = _MD_BOLD.sub(lambda m: "  " + m.group(1) + "  ", text)
    return _MD_ATX_HEADING.sub(lambda m: m.group(1) + " " * len(m.group(2)) + m.group(3), text)


# A bilingual record writes each heading twice, the local language first ("PROCEDIMIENTO / PROCEDURE:"); in a
# note that does this on several lines, the first wording becomes spaces (same length) so the English
# heading opens its line for the sectioner.
_BILINGUAL_HEADING = re.compile(r"(?m)^[ \t]*[A-ZÀ-Ý][A-ZÀ-Ý' ]{2,40}[ ]/[ ](?=[A-Z][A-Z' ]{2,40}:)")
BILINGUAL_HEADINGS_MIN = 2


def bilingual_headings(text: str) -> str:
    """'PROCEDIMIENTO / PROCEDURE:' read as 'PROCEDURE:' (padded), when the note heads several lines so."""
    if len(_BILINGUAL_HEADING.findall(text)) < BILINGUAL_HEADINGS_MIN:
        return text
    return _BILINGUAL_HEADING.sub(lambda m: " " * len(m.group()), text)


# what an OCR pass leaves: levels whose digits became letters ("Tl2", "TlO"), units with "rn" for "m"
# ("2.5 rnL"), a page header or footer in the middle of the text
_OCR_TRACES = re.compile(r"\b[CTL](?:l[0-2O]?|1O)\b|\d\s?rn(?:L|l|g|in)\b|\n[^\n]{0,40}\bPage\s+\d+\s+of\s+\d+\b[^\n]{0,60}\n(?=.*\S)",
                         re.DOTALL)
OCR_TRACES_MIN = 2


def noise(text: str) -> list[str]:
    """Why the text may be misread: 'ocr' (OCR traces), 'dictation' (raw speech recognition)."""
    found = []
    if len(_OCR_TRACES.findall(text)) >= OCR_TRACES_MIN:
        found.append("ocr")
    if len(_SPOKEN_CUE.findall(text)) >= SPOKEN_MARKS_MIN:
        found.append("dictation")
    return found


# an OCR pass reads a zero as the letter O inside numbers ("1O:14", "2.O mL", "T1O"): between digits (or a
# digit and a clock's colon or a decimal point) it is a zero, one character for one; not water's "H2O"
# (each branch starts with the O and looks behind it, so that re skips ahead to an O)
_OCR_ZERO = re.compile(r"O(?<![A-BD-KM-RU-Za-z]\dO)(?<=\dO)(?=[\d:.]|\b)|O(?<=[\d:.]O)(?=\d)|O(?<=\d[:.]O)\b")
# ... and a capital I inside an ALL-CAPS word as a small l ("INDICATlON", "BlLATERAL"), so headings read; not
# a level's "TlO" (T10), which the level grammar reads
_OCR_CAPITAL_I = re.compile(r"l(?<=[A-Z]l)(?<!\b[CTLSD]l)(?=[A-Z])")


def ocr_misreads(text: str) -> str:
    """The letter O read inside a number as the zero it is, and the small l inside an ALL-CAPS word as the
    capital I it is (same length)."""
    if "O" in text:
        text = _OCR_ZERO.sub("0", text)
    return _OCR_CAPITAL_I.sub("I", text)


def normalize(text: str) -> str:
    """Return text of the same length with export noise replaced one character for one, OCR misreads inside
    numbers and ALL-CAPS words corrected, line breaks written as markup turned into breaks, spoken
    punctuation written as marks (padded), markdown marks as spaces, headings run inline starting lines again
    and bilingual headings read in English."""
    out = bilingual_headings(inline_headings(markdown_marks(spoken_punctuation(export_line_breaks(
        ocr_misreads(text.translate(_TABLE)))))))
    assert len(out) == len(text)
    return out


class NoteDecodeError(ValueError):
    """The bytes of a note could not be decoded as text."""


def decode_note(data: bytes) -> tuple[str, list[str]]:
    """Decode note bytes: UTF-8 (with or without BOM), else cp1252/latin-1 with a warning.

    Returns (text, warnings). Binary content (NUL bytes) raises NoteDecodeError; the error message
    never contains note text.
    """
    warnings: list[str] = []
    if b"\x00" in data[:4096]:
        raise NoteDecodeError("file looks binary (NUL bytes); not a text note")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), warnings
    except UnicodeDecodeError:
        pass
    for encoding in ("cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        warnings.append(f"note was not valid UTF-8; decoded as {encoding}")
        return text, warnings
    raise NoteDecodeError("note could not be decoded as UTF-8, cp1252 or latin-1")  # pragma: no cover
