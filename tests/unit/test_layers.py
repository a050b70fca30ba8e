"""The package's layers, checked on every import statement, those inside functions included:
no import cycle, and each layer imports only the layers below it (see docs/development.md,
Layout)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PACKAGES = {
    "s3_connector": ROOT / "api",
    "s3_connector.connector": ROOT / "connector",
    "s3_connector.activities": ROOT / "activities",
    "s3_connector.cli": ROOT / "cli",
    "s3_connector.sdk": ROOT / "sdk",
}
MAY_IMPORT = {
    "s3_connector.connector": {"s3_connector.connector"},
    "s3_connector.activities": {"s3_connector.connector", "s3_connector.activities"},
    "s3_connector.sdk": {"s3_connector.connector", "s3_connector.sdk"},
    "s3_connector.cli": {
        "s3_connector.connector",
        "s3_connector.activities",
        "s3_connector.sdk",
        "s3_connector.cli",
    },
    "s3_connector": {"s3_connector.connector"},
}
"""Runtime at the bottom; activities on the runtime; tooling (sdk) on the runtime; the CLI
on everything. The runtime finds the shipped activities by discovering their modules, never
by importing them."""


def modules() -> dict[str, Path]:
    found = {}
    for package, folder in PACKAGES.items():
        for path in folder.glob("*.py"):
            name = package if path.stem == "__init__" else f"{package}.{path.stem}"
            found[name] = path
    return found


MODULES = modules()


def _package(module: str) -> str:
    if module in PACKAGES:
        return module
    return module.rpartition(".")[0]


def imports_of(module: str, path: Path) -> set[str]:
    """Every s3_connector module `module` imports, anywhere in its file (imports for type
    checkers only, under `if TYPE_CHECKING:`, do not run and are left out)."""
    package = _package(module)
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            names = [source, *(f"{source}.{alias.name}" for alias in node.names)]
        else:
            continue
        found.update(name for name in names if name in MODULES and name != module)
    return found


def _runtime_nodes(tree: ast.AST):
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            continue
        yield node
        yield from _runtime_nodes(node)


GRAPH = {module: imports_of(module, path) for module, path in MODULES.items()}


def test_the_graph_sees_the_package():
    assert "s3_connector.connector.harness" in GRAPH
    assert "s3_connector.connector.registry" in GRAPH["s3_connector.connector.harness"]
    assert GRAPH["s3_connector.activities.put_object"]


def test_no_import_cycle():
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in GRAPH[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    assert cycles == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_layer_imports_only_the_layers_below(module):
    allowed = MAY_IMPORT[_package(module)]
    wrong = sorted(t for t in GRAPH[module] if _package(t) not in allowed)
    assert wrong == [], f"{module} may not import {wrong}"


def test_the_runtime_needs_no_tooling():
    for module, path in MODULES.items():
        if _package(module) == "s3_connector.connector":
            tree = ast.parse(path.read_text(encoding="utf-8"))
            imported = {
                alias.name.split(".")[0]
                for node in ast.walk(tree)
                if isinstance(node, ast.Import)
                for alias in node.names
            } | {
                (node.module or "").split(".")[0]
                for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and not node.level
            }
            assert not imported & {"pytest", "moto", "cookiecutter"}, module
