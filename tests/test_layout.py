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
    found = set()
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
