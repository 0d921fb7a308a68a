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
