"""Concerns are data: every code raised anywhere has one routing row, every row is used, and routing
reads codes, never the message text."""

from __future__ import annotations

import ast
import inspect
import json
from pathlib import Path

from extractor.coding import assign_codes
from extractor.coding.sedation import sedation_table
from extractor.concerns import ROUTES, ConcernCode, route_of, routing
from extractor.facts import LevelFacts, NoteFacts, NotTreated
from extractor.review.confidence import assess

PACKAGE = Path(__file__).resolve().parents[2] / "extractor"
TABLE = PACKAGE / "review" / "routing.json"
# the calls that raise a concern: NoteIndex.concern, the code mapper's _Notes.warn, Concern(...)
RAISING_CALLS = {"concern", "warn", "Concern"}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "concerns.py")


def _codes_used(tree: ast.AST) -> set[str]:
    return {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name) and node.value.id == "ConcernCode"}


def test_every_code_has_one_row_and_every_row_a_code():
    rows = json.loads(TABLE.read_text(encoding="utf-8"))
    assert sorted(rows) == sorted(c.value for c in ConcernCode)
    assert set(routing()) == set(ConcernCode)


def test_every_row_says_why_and_only_advisories_weigh():
    for code, row in routing().items():
        assert row.route in ROUTES and (row.when_mapper_reviews or row.route) in ROUTES, code
        assert row.why.strip(), f"{code.value}: the row needs a short 'why'"
        assert (row.weight > 0) == (row.route == "advisory"), code


def test_every_code_is_raised_somewhere_and_every_raise_names_a_code():
    used: set[str] = set()
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        used |= _codes_used(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if name in RAISING_CALLS and name != "warn" or (name == "warn" and _is_notes_warn(node)):
                first = node.args[0] if node.args else None
                forwarded = isinstance(first, ast.Name) and first.id == "code"  # NoteIndex.concern, _Notes.warn
                # a table row's code, checked against ConcernCode when the table loads (coding/sedation.py)
                forwarded |= isinstance(first, ast.Call) and getattr(first.func, "id", None) == "ConcernCode"
                assert first is not None and (forwarded or _codes_used(first)), (
                    f"{path.relative_to(PACKAGE)}:{node.lineno}: {name}() without a ConcernCode")
    used |= {ConcernCode(row["concern"]).name for row in sedation_table()["rows"] if "concern" in row}
    assert used == {c.name for c in ConcernCode}, {c.name for c in ConcernCode} - used


def _is_notes_warn(node: ast.Call) -> bool:
    return isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) \
        and node.func.value.id == "notes"


def test_routing_reads_no_message_text():
    # the review stage decides by code: it compiles no regular expression over warnings
    path = Path(inspect.getsourcefile(assess))
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)
                for a in n.names} | {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "re" not in imported, path


def test_the_code_mapper_raises_codes_with_levels():
    facts = NoteFacts(procedures=[LevelFacts(lv, "augmentation", cement="pmma") for lv in ("T9", "T10", "T11", "T12")],
                      not_treated=[NotTreated("L1", "aborted")], other_procedures=["moderate sedation"])
    coding = assign_codes(facts)
    by_code = {c.code: c for c in coding.concerns}
    assert set(by_code) == {ConcernCode.ABORTED_NOT_COUNTED, ConcernCode.MANY_BODIES, ConcernCode.OUT_OF_SCOPE}
    assert by_code[ConcernCode.ABORTED_NOT_COUNTED].levels == ("L1",)
    assert coding.warnings == [c.message for c in coding.concerns]


def test_a_mapper_note_joins_the_review_reasons_only_when_the_mapper_asks_for_review():
    assert route_of(ConcernCode.LEVEL_LISTED_TWICE).route == "advisory"
    assert route_of(ConcernCode.LEVEL_LISTED_TWICE, mapper_reviews=True).route == "review"
    assert route_of(ConcernCode.UNLISTED_CODE, mapper_reviews=True).route == "advisory"
