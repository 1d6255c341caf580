"""pyproject.toml ships every package of extractor/ and registers every pipe as a spaCy entry point."""

from __future__ import annotations

from pathlib import Path

import tomllib

from extractor.pipeline import PIPES, TOKENIZER

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_package_is_listed():
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "extractor").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    listed = set(PROJECT["tool"]["setuptools"]["packages"])
    assert found - listed == set(), "packages a wheel would leave out"


def test_pipes_and_tokenizer_are_entry_points():
    entry_points = PROJECT["project"]["entry-points"]
    assert set(entry_points["spacy_factories"]) == set(PIPES)
    assert set(entry_points["spacy_tokenizers"]) == {TOKENIZER}
