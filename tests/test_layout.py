"""The one-way import rule between the project's packages (see the README's layout section)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = ("stream", "trained", "export", "bench")
ALLOWED = {
    "stream": {"stream"},
    "trained": {"trained", "stream"},
    "export": {"export", "trained", "stream"},
    "bench": set(OURS),
}


def imported_packages(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(OURS)


@pytest.mark.parametrize("package", OURS)
def test_imports_go_one_way(package):
    modules = sorted((ROOT / package).rglob("*.py"))
    assert modules, f"{package}/ holds no modules"
    for module in modules:
        forbidden = imported_packages(module) - ALLOWED[package]
        assert not forbidden, f"{module.relative_to(ROOT)} imports {sorted(forbidden)}"


def test_modules_named_by_string_exist_and_sit_where_the_rule_allows():
    """The registry names the torch backend and the demo model's exporter instead of importing them:
    the names must resolve, to modules of packages that may use ``stream``."""
    import importlib

    from stream.backends import DEMO_MODEL, REGISTRY

    named = [module for entry in REGISTRY.values() for module in (entry.module, *entry.by_suffix.values())]
    for name in [*named, DEMO_MODEL.split(":")[0]]:
        assert (ROOT / (name.replace(".", "/") + ".py")).is_file(), name
        assert "stream" in ALLOWED[name.split(".")[0]]
    module, function = DEMO_MODEL.split(":")
    assert callable(getattr(importlib.import_module(module), function))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The project modules ``path`` imports, at module level or inside functions: for ``from a import b``,
    ``a.b`` where that is a module, else ``a``."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            found.update(
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names
            )
    return found & known


def cycle_in(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` (module → the modules it imports) as a path that ends where it starts."""
    state: dict[str, str] = {}  # "open" while on the path, "done" after
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        state[node] = "done"
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_a_cycle_is_found_where_there_is_one():
    assert cycle_in({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert cycle_in({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


@pytest.mark.parametrize("package", OURS)
def test_no_import_cycle_inside_a_package(package):
    """Neither at import time nor through imports inside functions: a module and the modules it uses form
    no loop (``trained`` importing ``stream`` is one way by the rule above, so cycles can only be within)."""
    modules = {module_name(path): path for path in (ROOT / package).rglob("*.py")}
    graph = {name: imported_modules(path, set(modules)) - {name} for name, path in modules.items()}
    assert sum(map(len, graph.values())) >= len(modules) // 2, "the import graph lost its edges"
    assert cycle_in(graph) is None, " → ".join(cycle_in(graph) or [])
