"""The output contract as a JSON Schema shipped in the package (docs/output-contract.md explains it)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files


@lru_cache(maxsize=1)
def output_schema() -> dict:
    return json.loads((files("extractor") / "schema" / "output.schema.json").read_text(encoding="utf-8"))


def validate(record: dict) -> None:
    """Raise jsonschema.ValidationError when a record breaks the contract."""
    import jsonschema

    jsonschema.validate(record, output_schema())
