"""`pip install swapcam` without the train extra: torch is absent. Simulated in a child process whose
import system finds no torch (and records every attempt to import it)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

NO_TORCH = """
import os, sys

class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch":
            with open(os.environ["SWAPCAM_TORCH_ATTEMPTS"], "a") as attempts:
                attempts.write(name + "\\n")
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoTorch())
"""


@pytest.fixture
def without_torch(tmp_path):
    """Run ``swapcam ARGS`` where torch cannot be imported: (exit code, stderr, torch imports tried)."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(NO_TORCH)
    attempts = tmp_path / "attempts.txt"

    def run(*args: object) -> tuple[int, str, list[str]]:
        attempts.write_text("")
        environment = {**os.environ, "SWAPCAM_TORCH_ATTEMPTS": str(attempts)}
        environment["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "site"), os.getcwd()])
        command = [sys.executable, "-c", "import sys; from stream.cli import main; sys.exit(main())"]
        done = subprocess.run(
            [*command, *map(str, args)],
            capture_output=True,
            text=True,
            env=environment,
            timeout=600,
            check=False,
        )
        return done.returncode, done.stderr, attempts.read_text().split()

    return run


def test_live_on_an_onnx_model_never_tries_to_import_torch(without_torch, demo_model, sample_paths, tmp_path):
    code, err, tried = without_torch(
        "live", "--model", demo_model, "--source", sample_paths["man"], "--output", tmp_path / "out.mp4"
    )
    assert code == 0, err
    assert tried == [] and (tmp_path / "out.mp4").is_file()


def test_extract_and_doctor_run_without_torch(without_torch, sample_paths, tmp_path):
    code, err, _ = without_torch("extract", sample_paths["man"], "--out", tmp_path / "faces", "--every", "8")
    assert code == 0, err
    assert len(list((tmp_path / "faces" / "faces").glob("*.png"))) == 9  # frames 0, 8, ..., 64
    code, err, _ = without_torch("doctor")
    assert code == 0, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--a", "{faces}", "--b", "{faces}", "--out", "{tmp}/run"], "pip install 'swapcam[train]'"),
        (
            ["live", "--source", "{clip}"],
            "the demo model is exported to ONNX on first use, which needs torch",
        ),
    ],
)
def test_what_needs_torch_says_which_extra_installs_it(without_torch, sample_paths, tmp_path, args, message):
    faces = Path(tmp_path / "faces")
    faces.mkdir()
    filled = [arg.format(faces=faces, tmp=tmp_path, clip=sample_paths["man"]) for arg in args]
    code, err, _ = without_torch(*filled)
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and message in lines[0], err
