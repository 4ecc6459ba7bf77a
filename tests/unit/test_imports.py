"""The project's modules import one way: their module-level imports form no cycle, and none hides one in a function.

`python -m tests.unit.test_imports` prints the import graph and a cycle, if any (imports inside functions included).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("connector", "checkpoint")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")}


def imported(node: ast.Import | ast.ImportFrom, modules: dict[str, Path]) -> set[str]:
    """The project modules an import statement loads itself (parent packages left out: Python loads them first)."""
    if isinstance(node, ast.Import):
        names = {alias.name for alias in node.names}
    elif node.module is None:
        return set()
    else:
        names = {f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module
                 for alias in node.names}
    return {name for name in names if name in modules}


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        graph[name] = {target for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
                       for target in imported(node, modules) if not name.startswith(target + ".")}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph` as a list of modules, or None."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return path[path.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = "done"
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_module_level_imports_form_no_cycle() -> None:
    graph = import_graph(project_modules())
    assert "connector.serde" in graph and graph["connector.formats.from_registry"], "the graph was read"
    assert find_cycle(graph) is None, f"import cycle: {' -> '.join(find_cycle(graph))}"


def test_no_function_imports_a_project_module() -> None:
    modules = project_modules()
    hidden = []
    for name, path in modules.items():
        for function in ast.walk(ast.parse(path.read_text())):
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                hidden += [f"{name}.{function.name}: {target}" for node in ast.walk(function)
                           if isinstance(node, (ast.Import, ast.ImportFrom)) for target in imported(node, modules)]
    assert hidden == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def print_graph() -> None:
    """Each project module's project imports, those made inside a function marked, then a cycle of them all."""
    modules = project_modules()
    graph = import_graph(modules)
    full = {name: set(targets) for name, targets in graph.items()}
    for name, path in sorted(modules.items()):
        inner = {target for function in ast.walk(ast.parse(path.read_text()))
                 if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
                 for node in ast.walk(function) if isinstance(node, (ast.Import, ast.ImportFrom))
                 for target in imported(node, modules)}
        full[name] |= inner
        shown = sorted(graph[name]) + [f"{target} (in a function)" for target in sorted(inner - graph[name])]
        print(f"{name} -> {', '.join(shown) or '-'}")
    cycle = find_cycle(full)
    print("cycle:", " -> ".join(cycle) if cycle else "none")


if __name__ == "__main__":  # python -m tests.unit.test_imports
    print_graph()
