"""Every fenced ```python block of README.md and docs/*.md runs as written.

The blocks of one file run in order in one namespace (a later block may use an earlier one's names), which
holds the notes the snippets name (`note_text`, `text1`, `text2`: notes of examples/). They run from the
clone root, as the README's commands do. A block may be skipped only by a visible reason on the line
before it: `<!-- no-run: why -->`.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[ \t]*$")
NO_RUN = re.compile(r"^\s*<!--\s*no-run:\s*(?P<reason>.*?)\s*-->\s*$")


@dataclass
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    code: str
    skip_reason: str | None


def python_blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    k = 0
    while k < len(lines):
        opening = FENCE.match(lines[k])
        if not opening:
            k += 1
            continue
        end = next((j for j in range(k + 1, len(lines)) if lines[j].strip() == "```"), len(lines))
        if opening["lang"] in ("python", "py"):
            before = next((lines[j] for j in range(k - 1, -1, -1) if lines[j].strip()), "")
            marker = NO_RUN.match(before)
            code = textwrap.dedent("\n".join(lines[k + 1:end]))
            blocks.append(Block(path, k + 1, code, marker["reason"] if marker else None))
        k = end + 1
    return blocks


def example_notes() -> dict[str, str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "examples").glob("*.txt"))]
    return {"note_text": texts[0], "text1": texts[1], "text2": texts[2]}


BLOCKS = {path.relative_to(ROOT).as_posix(): python_blocks(path) for path in DOC_FILES}


def test_the_docs_have_python_blocks_to_run():
    runnable = [b for blocks in BLOCKS.values() for b in blocks if b.skip_reason is None]
    assert len(runnable) >= 2
    assert any(b.path.name == "README.md" for b in runnable)


def test_every_skipped_block_says_why():
    for blocks in BLOCKS.values():
        for block in blocks:
            assert block.skip_reason is None or len(block.skip_reason) >= 10, f"{block.path.name}:{block.line}"


@pytest.mark.parametrize("doc", sorted(name for name, blocks in BLOCKS.items() if blocks))
def test_python_blocks_run(doc, extractor, monkeypatch):  # the session's extractor: its pipeline is built once
    monkeypatch.chdir(ROOT)
    namespace: dict = {"__name__": "__docs__", **example_notes()}
    ran = 0
    for block in BLOCKS[doc]:
        if block.skip_reason is not None:
            continue
        exec(compile(block.code, f"{doc}:{block.line}", "exec"), namespace)  # noqa: S102 - our own docs
        ran += 1
    if not ran:
        pytest.skip("; ".join(f"{doc}:{b.line}: {b.skip_reason}" for b in BLOCKS[doc]))



def test_readme_library_example_handles_error_records(extractor, monkeypatch, capsys):
    """The README's loop takes the error branch for the empty note and the bad date, the code branch otherwise."""
    monkeypatch.chdir(ROOT)
    block = next(b for b in BLOCKS["README.md"] if "ex.pipe(" in b.code)
    exec(compile(block.code, f"README.md:{block.line}", "exec"), {"__name__": "__docs__"})  # noqa: S102
    lines = dict(line.split(" ", 1) for line in capsys.readouterr().out.splitlines())
    assert sorted(lines) == ["n1", "n2", "n3", "n4"]
    assert lines["n3"].startswith("error: EmptyNote - ")
    assert lines["n4"].startswith("error: InvalidDateOfService - ")
    assert lines["n1"].startswith("['") and lines["n2"].startswith("['")  # codes of the good notes
