"""The whole tree type-checks: mypy over every package and the tests, with the settings in pyproject.toml."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("stream", "export", "trained", "bench", "tests")


@pytest.mark.slow
def test_mypy_finds_no_errors_in_the_whole_tree():
    found = subprocess.run(
        [sys.executable, "-m", "mypy", *CHECKED], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert found.returncode == 0, (
        f"mypy {' '.join(CHECKED)} exited {found.returncode}:\n{found.stdout}{found.stderr}"
    )
