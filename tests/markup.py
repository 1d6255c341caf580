"""Expectations written into the text, in the manner of EDS-NLP's tests (edsnlp/utils/examples.py).

    "Bilateral kyphoplasty of <level technique=augmentation approach=bilateral>T12</level>;
     no cement reached <level not_treated=aborted>L1</level>."

Each `<level ...>` tag names one level (its text is read by extractor.levels.parse_levels) and what the
record must say of it:
- `not_treated=<reason>`: listed in `not_treated` with that reason;
- `biopsy_only=true`: listed in `biopsy_only_levels`;
- otherwise treated, with every given field equal: technique, approach, side, cavity_device, cement,
  cement_volume_ml, biopsy, guidance (`none` is null, `true`/`false` booleans, numbers floats).
The treated levels must be exactly the levels tagged as treated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from extractor.levels import parse_levels

_TAG = re.compile(r"<level((?:\s+\w+=[^\s>]+)*)\s*>(.*?)</level>", re.DOTALL)
_ATTR = re.compile(r"(\w+)=([^\s>]+)")


@dataclass
class Expected:
    level: str
    start: int
    end: int
    attrs: dict


def _value(raw: str):
    if raw == "none":
        return None
    if raw in ("true", "false"):
        return raw == "true"
    try:
        return float(raw)
    except ValueError:
        return raw


def parse(markup: str) -> tuple[str, list[Expected]]:
    """The clean text and the expected levels of a marked-up example."""
    out, expected, pos = [], [], 0
    for m in _TAG.finditer(markup):
        out.append(markup[pos : m.start()])
        start = sum(len(x) for x in out)
        inner = m.group(2)
        out.append(inner)
        levels = parse_levels(inner)
        assert len(levels) == 1, f"a <level> tag names one level, not {inner!r}"
        attrs = {k: _value(v) for k, v in _ATTR.findall(m.group(1))}
        expected.append(Expected(levels[0], start, start + len(inner), attrs))
        pos = m.end()
    out.append(markup[pos:])
    return "".join(out), expected


def check(record: dict, expected: list[Expected]) -> list[str]:
    """Every way the record differs from the expectations (empty: it matches)."""
    problems = []
    procedures = {p["level"]: p for p in record["procedures"]}
    not_treated = {n["level"]: n["reason"] for n in record["not_treated"]}
    biopsy_only = set(record["biopsy_only_levels"])
    treated_expected = set()
    for e in expected:
        attrs = dict(e.attrs)
        if "not_treated" in attrs:
            if not_treated.get(e.level) != attrs["not_treated"]:
                problems.append(f"{e.level}: not_treated {not_treated.get(e.level)!r}, expected {attrs['not_treated']!r}")
            continue
        if attrs.pop("biopsy_only", False):
            if e.level not in biopsy_only:
                problems.append(f"{e.level}: not biopsy-only")
            continue
        treated_expected.add(e.level)
        got = procedures.get(e.level)
        if got is None:
            problems.append(f"{e.level}: not treated")
            continue
        for key, value in attrs.items():
            if got[key] != value:
                problems.append(f"{e.level}.{key} = {got[key]!r}, expected {value!r}")
    extra = set(procedures) - treated_expected
    if extra:
        problems.append(f"treated but not tagged: {sorted(extra)}")
    return problems


def assert_markup(extractor, markup: str) -> None:
    text, expected = parse(markup)
    problems = check(extractor.extract(text).to_dict(), expected)
    assert not problems, "; ".join(problems)
