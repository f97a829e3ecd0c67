"""The import graph: layers point one way and no module is part of an import circle.

    corpus → index → service, eval → benchmarks → ragqa (the CLI and client roof)

A module may import its own package and any package of a lower layer, never one of a higher
layer, nor a sibling of its own layer (service and eval reach each other only over HTTP).
Every import counts, at module level or inside a function, type-only ones too: a lazy import
is still an arrow. Read from the source with `ast`, so the test imports nothing.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {"corpus": 0, "index": 1, "service": 2, "eval": 2, "benchmarks": 3, "ragqa": 4}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The project module an imported name lives in (None: a third-party one)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imported(module: str, path: Path) -> Iterator[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        for name in names:
            target = _resolve(name)
            if target is not None and target != module:
                yield target


GRAPH = {module: sorted(set(_imported(module, path))) for module, path in MODULES.items()}


def _top(module: str) -> str:
    return module.split(".")[0]


def test_no_import_runs_up_or_sideways() -> None:
    wrong = [
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if _top(target) != _top(module) and LAYERS[_top(target)] >= LAYERS[_top(module)]
    ]
    assert wrong == [], "imports against the layer order corpus → index → service/eval → ragqa"


def _circles() -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    for root in GRAPH:
        if root in index:
            continue
        work = [(root, iter(GRAPH[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(GRAPH[target])))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        circles.append(sorted(component))
    return circles


def test_no_import_circles() -> None:
    assert _circles() == []


def test_the_checks_see_a_circle_and_an_upward_import() -> None:
    # The graph is read right: a known downward import is there, and a planted circle is found.
    assert "corpus.documents" in GRAPH["index.types"]
    GRAPH["corpus.documents"].append("index.engine")
    try:
        assert any("index.engine" in circle for circle in _circles())
    finally:
        GRAPH["corpus.documents"].remove("index.engine")
