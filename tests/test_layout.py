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
# Two modules of the live runtime reach into the training side, each only inside a function that runs
# when asked for: the torch backend runs checkpoints, which are weights for trained's model classes, and
# `swapcam live` without --model exports the shipped demo checkpoint once.
EXCEPTIONS = {
    "stream/backends/checkpoint.py": {"trained"},
    "stream/commands/live.py": {"export"},
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
        allowed = ALLOWED[package] | EXCEPTIONS.get(module.relative_to(ROOT).as_posix(), set())
        forbidden = imported_packages(module) - allowed
        assert not forbidden, f"{module.relative_to(ROOT)} imports {sorted(forbidden)}"


def test_the_exceptions_are_still_needed():
    for name, packages in EXCEPTIONS.items():
        assert packages <= imported_packages(ROOT / name), f"{name} no longer needs {packages}: drop it"
