"""Rule files by resource name, and rules saved with a pipeline.

A component's `rules` setting is a resource name, "spinecode:<file stem>" for a file of patterns/
(shipped as the package `extractor.patterns`, read through importlib.resources so a zipped or wheel
install works), or a path to a JSON file of the same shape. `to_disk` writes the component's rules to
`rules.json` in its folder (level-grammar pieces filled in) and `from_disk` reads them back, as spaCy's SpanRuler does: a saved
pipeline does not depend on the checkout or the installed rule files.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

from ..levels import grammar

RESOURCE_PREFIX = "spinecode:"
RULES_FILE = "rules.json"


def read_rule_dicts(rules: str, key: str) -> list[dict]:
    """The rule dicts under `key` of a resource name or a JSON file path; "" or None gives none."""
    if not rules:
        return []
    if rules.startswith(RESOURCE_PREFIX):
        stem = rules[len(RESOURCE_PREFIX):]
        resource = files("extractor.patterns") / f"{stem}.json"
        if not resource.is_file():
            raise ValueError(f"no rule resource {rules!r} (patterns/{stem}.json)")
        data = json.loads(resource.read_text(encoding="utf-8"))
    else:
        data = json.loads(Path(rules).read_text(encoding="utf-8"))
    return [_with_level_grammar(rule) for rule in data[key]]


def _with_level_grammar(rule: dict) -> dict:
    """A rule whose pattern holds level-grammar pieces (<level>, ...; extractor/levels.py), filled in."""
    if isinstance(rule.get("pattern"), str) and "<" in rule["pattern"]:
        return {**rule, "pattern": grammar().expand(rule["pattern"])}
    return rule


def _plain(value):
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot save {type(value).__name__} in a rule")


def write_rules(folder: str | Path, key: str, rules) -> None:
    """Write medspaCy rules (objects with `to_dict`) to folder/rules.json, keys sorted for stable bytes."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = {key: [rule.to_dict() for rule in rules]}
    text = json.dumps(data, indent=1, sort_keys=True, default=_plain, ensure_ascii=False)
    (folder / RULES_FILE).write_text(text + "\n", encoding="utf-8")


def read_saved_rules(folder: str | Path, key: str) -> list[dict]:
    return list(json.loads((Path(folder) / RULES_FILE).read_text(encoding="utf-8"))[key])
