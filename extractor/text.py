"""Reading and normalising note text while keeping every character offset.

Normalisation is strictly one character for one character, so an offset into the normalised text
is the same offset into the text the caller gave us (`text[start:end] == evidence.text`).
"""

from __future__ import annotations

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


def normalize(text: str) -> str:
    """Return text of the same length with export noise replaced one character for one."""
    out = text.translate(_TABLE)
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
