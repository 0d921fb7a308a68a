"""Training survives kill -9 at any moment: every checkpoint loads, every checkpointed step keeps its log
row, and --resume continues from the newest checkpoint that loads."""

import csv
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from trained import checkpoint as ckpt

KILLS = 6
TIMEOUT_S = 120
CLI = [sys.executable, "-c", "import sys; from stream.cli import main; sys.exit(main(sys.argv[1:]))"]


def logged_steps(run: Path) -> list[int]:
    path = run / "log.csv"
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        return [int(row["step"]) for row in csv.DictReader(handle) if row.get("step", "").isdigit()]


def start(extracted: dict[str, Path], run: Path, *extra: str) -> subprocess.Popen:
    arguments = ["train", "--a", str(extracted["woman"]), "--b", str(extracted["man"]), "--out", str(run),
                 "--resolution", "64", "--batch", "2", "--save-every", "3", "--preview-every", "1000",
                 "--no-progress", *extra]  # fmt: skip
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([*CLI, *arguments], env=environment, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip


def finish(process: subprocess.Popen) -> str:
    """Wait for a run to end well; its stderr."""
    with process:
        _, err = process.communicate(timeout=TIMEOUT_S)
    assert process.returncode == 0, err.decode()
    return err.decode()


def wait_for_rows(process: subprocess.Popen, run: Path, count: int) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while len(logged_steps(run)) < count:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        assert time.monotonic() < deadline, f"no {count} log rows after {TIMEOUT_S} s"
        time.sleep(0.05)


@pytest.mark.slow
def test_kill_9_at_random_moments_loses_no_checkpointed_step(extracted, tmp_path):
    run, chance = tmp_path / "run", random.Random(0)
    for kill in range(KILLS):
        with start(extracted, run, "--steps", "100000", *(["--resume"] if kill else [])) as process:
            try:
                wait_for_rows(process, run, len(logged_steps(run)) + 4)  # past at least one more save
                time.sleep(chance.uniform(0.0, 0.6))  # anywhere in a step, a log write or a save
            finally:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        saved = ckpt.list_checkpoints(run / "checkpoints")
        assert saved, f"kill {kill}: no checkpoint"
        steps = set(logged_steps(run))
        for path in saved:
            state = ckpt.load_checkpoint(path)  # every checkpoint loads
            assert set(range(1, state["step"] + 1)) <= steps, f"kill {kill}: rows of {path.name} lost"
    newest = ckpt.load_checkpoint(ckpt.list_checkpoints(run / "checkpoints")[-1])["step"]
    finish(start(extracted, run, "--steps", str(newest + 2), "--resume"))
    assert logged_steps(run) == list(range(1, newest + 3))  # each step once, in order
    assert not list((run / "checkpoints").glob("*.part"))


def test_resume_skips_a_damaged_newest_checkpoint(extracted, tmp_path):
    run = tmp_path / "run"
    finish(start(extracted, run, "--steps", "6"))
    newest = ckpt.list_checkpoints(run / "checkpoints")[-1]
    newest.write_bytes(newest.read_bytes()[:1000])  # cut short, as a full disk would
    (run / "checkpoints" / "step-0000009.pt.part").write_bytes(b"half")
    err = finish(start(extracted, run, "--steps", "8", "--resume"))
    assert f"skipped {newest.name}" in err and "resumed from step-0000003.pt" in err
    assert newest.with_name(newest.name + ".damaged").is_file()
    assert not (run / "checkpoints" / "step-0000009.pt.part").exists()
    assert ckpt.load_checkpoint(ckpt.list_checkpoints(run / "checkpoints")[-1])["step"] == 8
