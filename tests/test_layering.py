"""The package's layering: no import cycle between modules of extractor/, and the flow goes one way
(read → spaCy Doc → mentions → facts → codes → review → writers).

Imports are read with `ast`, at module level AND inside functions (a lazy import is still a
dependency), relative imports resolved. A cycle through a lazy import works at run time but makes the
modules impossible to read, test or move one at a time.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "extractor"

# a layer (module or package, prefix match) must never import the layers listed after it
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "extractor.concerns": ("extractor.",),  # the shared vocabulary sits below everything
    "extractor.facts": ("extractor.coding", "extractor.decide", "extractor.review", "extractor.mentions",
                        "extractor.pipeline", "extractor.components", "extractor.api"),
    "extractor.decide": ("extractor.coding", "extractor.review", "extractor.pipeline", "extractor.components",
                         "extractor.api", "extractor.cli", "extractor.batch", "extractor.writers"),
    "extractor.coding": ("extractor.decide", "extractor.pipeline", "extractor.components", "extractor.mentions",
                         "extractor.review", "extractor.api", "extractor.cli", "extractor.batch",
                         "extractor.writers"),
    "extractor.review": ("extractor.api", "extractor.cli", "extractor.batch", "extractor.writers",
                         "extractor.spark", "extractor.decide", "extractor.pipeline", "extractor.components",
                         "extractor.mentions"),
    "extractor.api": ("extractor.review.training", "extractor.cli", "extractor.batch"),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The extractor modules `name` imports anywhere in its file."""
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            submodules = {f"{target}.{a.name}" for a in node.names} & known  # `from pkg import module`
            out |= submodules
            if len(submodules) < len(node.names):  # some name is an attribute of `target` itself
                out.add(target)
    return {m for m in out if m in known and m != name}


def import_graph() -> dict[str, set[str]]:
    modules = all_modules()
    return {name: imports_of(name, path, set(modules)) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _in(module: str, layer: str) -> bool:
    return module == layer or module.startswith(layer + ".") or (layer.endswith(".") and module.startswith(layer))


def test_the_graph_sees_relative_and_lazy_imports():
    graph = import_graph()
    assert "extractor.review.confidence" in graph["extractor.api"]  # from .review.confidence import score
    assert "extractor.review.training" in graph["extractor.cli"]  # imported inside the train command
    assert "extractor.facts" in graph["extractor.review.confidence"]  # from ..facts import ...
    assert "extractor.coding.rules" in graph["extractor.coding"]  # absolute, in a package __init__


def test_no_import_cycle_between_modules():
    assert cycles(import_graph()) == []


def test_a_cycle_would_be_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_flow_goes_one_way():
    broken = [
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        for layer, forbidden in FORBIDDEN.items() if _in(module, layer)
        for target in sorted(targets) if any(_in(target, f) for f in forbidden) and not _in(target, layer)
    ]
    assert broken == []
