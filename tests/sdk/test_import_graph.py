"""The SDK's modules import each other without a cycle, and only at module level (no hidden lazy import)."""

from __future__ import annotations

import ast
from pathlib import Path

import sdk

SDK = Path(sdk.__file__).parent


def _module(path: Path) -> str:
    return "sdk" if path.name == "__init__.py" else f"sdk.{path.stem}"


def _targets(node: ast.Import | ast.ImportFrom, modules: set[str]) -> set[str]:
    """The sdk modules an import statement loads (``from sdk import x`` loads ``sdk.x`` when it is one)."""
    if isinstance(node, ast.Import):
        names = {alias.name for alias in node.names}
    else:
        package = node.module or ""
        if node.level:
            package = f"sdk.{package}" if package else "sdk"
        submodules = {f"{package}.{alias.name}" for alias in node.names}
        names = submodules & modules
        if names != submodules:  # some names are attributes of the module itself
            names.add(package)
    return {name for name in names if name in modules}


def import_graph() -> tuple[dict[str, set[str]], list[str]]:
    """Module-level sdk imports per sdk module, and every sdk import found inside a function or class."""
    paths = sorted(SDK.glob("*.py"))
    modules = {_module(path) for path in paths}
    graph: dict[str, set[str]] = {module: set() for module in modules}
    nested: list[str] = []
    for path in paths:
        module = _module(path)
        tree = ast.parse(path.read_text(), filename=str(path))
        top_level = {id(statement) for statement in tree.body}
        for statement in tree.body:
            if isinstance(statement, ast.If):  # ``if TYPE_CHECKING:`` imports count as edges too
                top_level |= {id(inner) for inner in statement.body}
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            targets = _targets(node, modules) - {module}
            if not targets:
                continue
            if id(node) in top_level:
                graph[module] |= targets
            else:
                nested.append(f"{module}:{node.lineno} imports {', '.join(sorted(targets))}")
    return graph, nested


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (as a path that starts and ends at the same module), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def test_sdk_has_no_import_cycle() -> None:
    graph, _ = import_graph()
    graph.pop("sdk")  # the package re-exports its modules; none of them imports ``sdk`` itself
    for targets in graph.values():
        assert "sdk" not in targets, "an sdk module imports the sdk package (import its module instead)"
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_sdk_imports_only_at_module_level() -> None:
    _, nested = import_graph()
    assert nested == []


def test_the_checks_see_a_cycle_and_a_nested_import() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    tree = ast.parse("def f():\n    from sdk.node import Node\n")
    (function,) = tree.body
    assert isinstance(function, ast.FunctionDef)
    (statement,) = function.body
    assert isinstance(statement, ast.ImportFrom)
    assert _targets(statement, {"sdk.node"}) == {"sdk.node"}
