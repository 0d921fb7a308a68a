"""mypy checks every TensorRT call (export/engine.py, stream/backends/) against tensorrt-stubs 10.13.

TensorRT itself cannot be installed on the machines this project is built on, so this is how the engine
code is checked: a wrong name or signature fails here. The stubs need two fixes to parse (generated
parameters named `in`, a keyword, and one required parameter after defaulted ones), and mypy only reads
them through MYPYPATH because their `tensorrt` folder has no py.typed marker; both are done on a copy.
"""

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MYPY_CONFIG = """\
[mypy]
follow_imports = silent
[mypy-tensorrt_bindings.*]
ignore_errors = True
[mypy-tensorrt.*]
ignore_errors = True
# cuda-python ships compiled modules without type information: its calls are not checked
[mypy-cuda.*]
ignore_missing_imports = True
"""


@pytest.fixture(scope="module")
def stubs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("trt-stubs")
    files = [f for f in metadata.files("tensorrt-stubs") or [] if f.suffix == ".pyi"]
    assert {f.parts[0] for f in files} == {"tensorrt", "tensorrt_bindings"}, files
    for file in files:
        text = Path(file.locate()).read_text()
        text = re.sub(r"([(,] ?)in: ", r"\1in_: ", text)
        text = text.replace(", channel_axis: int)", ", channel_axis: int = ...)")
        (folder / file.parent).mkdir(parents=True, exist_ok=True)
        (folder / file).write_text(text)
    (folder / "mypy.ini").write_text(MYPY_CONFIG)
    return folder


def run_mypy(stubs: Path, *modules: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "mypy",
        "--config-file",
        str(stubs / "mypy.ini"),
        "--no-incremental",
        *map(str, modules),
    ]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        env={"MYPYPATH": str(stubs), "PATH": ""},
        cwd=ROOT,
        check=False,
    )


def test_stubs_are_the_pinned_tensorrt_10_release():
    assert metadata.version("tensorrt-stubs").startswith("10.13.")


TENSORRT_MODULES = ("export/engine.py", "stream/backends/engine_file.py", "stream/backends/trt.py")


@pytest.mark.slow
@pytest.mark.parametrize("module", TENSORRT_MODULES)
def test_tensorrt_modules_type_check_against_tensorrt_stubs(stubs, module):
    result = run_mypy(stubs, ROOT / module)
    assert result.returncode == 0, result.stdout + result.stderr


BREAKAGES = {
    "misspelt_method.py": ("build_serialized_network(network", "build_serialized_networkk(network"),
    "misspelt_enum.py": ("trt.MemoryPoolType.WORKSPACE", "trt.MemoryPoolType.WORKSPACES"),
    "wrong_argument_type.py": ("trt.Dims4(1, 3, r, r)", "(1, 3, r, r)"),
}


@pytest.mark.slow
def test_the_check_catches_wrong_tensorrt_calls(stubs, tmp_path):
    source = (ROOT / "export" / "engine.py").read_text()
    for name, (original, broken) in BREAKAGES.items():
        assert original in source
        (tmp_path / name).write_text(source.replace(original, broken, 1))
    result = run_mypy(stubs, *(tmp_path / name for name in BREAKAGES))
    assert result.returncode == 1
    assert all(f"{name}:" in result.stdout for name in BREAKAGES), result.stdout
