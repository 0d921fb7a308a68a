import csv
import re
import signal
from pathlib import Path

import cv2
import pytest
import torch

from stream.cli import main
from stream.errors import SwapcamError
from trained import checkpoint as ckpt
from trained import train as train_module
from trained.model import SwapAutoencoder, preset_config
from trained.session import TrainOptions
from trained.train import train

FAST = {"preset": "lite", "resolution": 64, "batch": 4, "preview_every": 1000, "save_every": 1000}


def losses(run: Path) -> list[float]:
    with (run / "log.csv").open() as handle:
        return [float(row["loss"]) for row in csv.DictReader(handle)]


def test_thirty_steps_on_real_faces_lower_the_loss(extracted, tmp_path):
    options = TrainOptions(**{**FAST, "batch": 8}, steps=30, learning_rate=3e-4)
    train(extracted["woman"], extracted["man"], tmp_path / "run", options, progress=False)
    history = losses(tmp_path / "run")
    assert len(history) == 30
    assert sum(history[-5:]) / 5 < 0.9 * sum(history[:5]) / 5


def test_a_resumed_run_repeats_the_uninterrupted_one(extracted, tmp_path):
    a, b = extracted["woman"], extracted["man"]
    train(a, b, tmp_path / "straight", TrainOptions(**FAST, steps=4), progress=False)
    train(a, b, tmp_path / "resumed", TrainOptions(**FAST, steps=3), progress=False)
    train(a, b, tmp_path / "resumed", TrainOptions(**FAST, steps=4), resume=True, progress=False)
    assert losses(tmp_path / "resumed") == pytest.approx(losses(tmp_path / "straight"), rel=1e-6)


def test_checkpoint_round_trip_is_bit_exact(tmp_path):
    model = SwapAutoencoder(preset_config("lite", 64))
    ckpt.save_checkpoint(tmp_path / "c.pt", {"model": model.state_dict(), "step": 3})
    loaded = ckpt.load_checkpoint(tmp_path / "c.pt")
    assert loaded["step"] == 3
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, loaded["model"][name]), name


def test_damaged_checkpoints_are_refused(tmp_path):
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(SwapcamError, match="damaged or not a swapcam checkpoint"):
        ckpt.load_checkpoint(tmp_path / "bad.pt")
    torch.save({"something": 1}, tmp_path / "foreign.pt")
    with pytest.raises(SwapcamError, match="not a swapcam checkpoint"):
        ckpt.load_checkpoint(tmp_path / "foreign.pt")


def test_a_minutes_run_shows_a_bar_of_its_time_that_ends_full(extracted, tmp_path, capsys):
    options = TrainOptions(**FAST, minutes=0.05)  # 3 seconds
    result = train(extracted["woman"], extracted["man"], tmp_path / "run", options, progress=True)
    bar = capsys.readouterr().err.split("\r")[-1]
    assert result.seconds >= 3 and "100%|" in bar and f"step={result.step}" in bar and "<00:00" in bar


def test_only_the_last_checkpoints_are_kept(extracted, tmp_path):
    options = TrainOptions(**{**FAST, "save_every": 1, "keep": 2}, steps=4)
    train(extracted["woman"], extracted["man"], tmp_path / "run", options, progress=False)
    names = [p.name for p in ckpt.list_checkpoints(tmp_path / "run" / "checkpoints")]
    assert names == ["step-0000003.pt", "step-0000004.pt"]


def test_swapcam_train_writes_a_checkpoint_a_log_and_a_preview(extracted, tmp_path, capsys):
    run = tmp_path / "run"
    args = ["train", "--a", extracted["woman"], "--b", extracted["man"], "--out", run]
    code = main([*map(str, args), "--steps", "3", "--batch", "4", "--resolution", "64", "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "reached step 3" in out
    header = next(line for line in err.splitlines() if line.startswith("swapcam train: training "))
    assert "(df, 64 px" in header and re.search(r"woman \d+, man \d+ faces; cpu, \d+ threads?,", header)
    assert "batch 4 per identity x 1 process(es); from step 0 until step 3" in header
    assert ckpt.load_checkpoint(run / "checkpoints" / "step-0000003.pt")["labels"] == {
        "a": "woman",
        "b": "man",
    }
    assert len(losses(run)) == 3
    preview = cv2.imread(str(run / "preview.png"))
    assert preview.shape == (18 + 4 * 64, 6 * 64, 3) and preview.std() > 10


def run_cli(capsys, *args) -> tuple[int, str]:
    code = main(["train", *map(str, args), "--no-progress"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def test_bad_inputs_are_one_line_errors(extracted, other_face_type, tmp_path, capsys):
    a, b = extracted["woman"], extracted["man"]
    cases = [
        ([tmp_path / "nope", b], "no such file or folder"),
        ([tmp_path, b], "has no index.npz"),
        ([a, other_face_type], "extracted differently"),
        ([a, b, "--resolution", "300"], "--resolution must be 64..256, got 300"),
        ([a, b, "--device", "cuda"], "torch sees no CUDA GPU"),
        ([a, b, "--resume"], "has no checkpoints"),
        ([a, b, "--batch", "0"], "--batch must be 1..512, got 0"),
        ([a, b, "--holdout", "1.5"], "--holdout must be 0..0.99, got 1.5"),
        ([a, b, "--lr", "-1"], "--lr must be 1e-08..1, got -1"),
    ]
    for index, (extra, message) in enumerate(cases):
        code, err = run_cli(
            capsys, "--a", extra[0], "--b", extra[1], "--out", tmp_path / f"r{index}", *extra[2:]
        )
        assert code == 1 and message in err and len(err.strip().splitlines()) == 1, (extra, err)


def test_a_corrupted_checkpoint_on_resume_is_one_line(extracted, tmp_path, capsys):
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    (tmp_path / "run" / "checkpoints" / "step-0000010.pt").write_bytes(b"\x00" * 100)
    code, err = run_cli(
        capsys, "--a", extracted["woman"], "--b", extracted["man"], "--out", tmp_path / "run", "--resume"
    )
    assert code == 1 and "damaged or not a swapcam checkpoint" in err


def test_an_existing_run_is_not_overwritten(extracted, tmp_path, capsys):
    train(
        extracted["woman"], extracted["man"], tmp_path / "run", TrainOptions(**FAST, steps=1), progress=False
    )
    code, err = run_cli(capsys, "--a", extracted["woman"], "--b", extracted["man"], "--out", tmp_path / "run")
    assert code == 1 and "pass --resume" in err


def test_unknown_preset_is_a_usage_error(extracted, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(
            ["train", "--a", str(tmp_path), "--b", str(tmp_path), "--out", str(tmp_path), "--preset", "huge"]
        )
    assert exit_info.value.code == 2 and "invalid choice: 'huge'" in capsys.readouterr().err


def test_gpu_out_of_memory_suggests_a_smaller_batch(extracted, tmp_path, monkeypatch, capsys):
    def out_of_memory(*_):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(train_module, "train_step", out_of_memory)
    code, err = run_cli(
        capsys, "--a", extracted["woman"], "--b", extracted["man"], "--out", tmp_path / "r", "--batch", "16"
    )
    assert code == 1 and "GPU out of memory at --batch 16: try --batch 8" in err


def test_ctrl_c_finishes_the_step_saves_and_resumes_exactly(extracted, tmp_path, monkeypatch):
    a, b = extracted["woman"], extracted["man"]
    train(a, b, tmp_path / "straight", TrainOptions(**FAST, steps=5), progress=False)
    real_step = train_module.train_step
    calls = []

    def ctrl_c_during_third_step(session, options):
        calls.append(1)
        if len(calls) == 3:
            signal.raise_signal(signal.SIGINT)  # arrives in the middle of the step
        return real_step(session, options)

    monkeypatch.setattr(train_module, "train_step", ctrl_c_during_third_step)
    result = train(a, b, tmp_path / "run", TrainOptions(**FAST, steps=10), progress=False)
    assert result.interrupted and result.step == 3
    assert ckpt.latest_checkpoint(tmp_path / "run").name == "step-0000003.pt"
    monkeypatch.setattr(train_module, "train_step", real_step)
    train(a, b, tmp_path / "run", TrainOptions(**FAST, steps=5), resume=True, progress=False)
    assert losses(tmp_path / "run") == pytest.approx(losses(tmp_path / "straight"), rel=1e-6)


@pytest.mark.slow
def test_resume_refuses_changed_training_options(extracted, tmp_path, capsys):
    a, b = extracted["woman"], extracted["man"]
    train(a, b, tmp_path / "run", TrainOptions(**FAST, steps=1, holdout=0.1), progress=False)
    code, err = run_cli(capsys, "--a", a, "--b", b, "--out", tmp_path / "run", "--resume", "--batch", "4")
    assert code == 1 and "holdout 0.1 (now 0.0)" in err


def test_log_rows_past_the_checkpoint_are_dropped_on_resume(extracted, tmp_path):
    a, b = extracted["woman"], extracted["man"]
    train(a, b, tmp_path / "run", TrainOptions(**FAST, steps=2), progress=False)
    with (tmp_path / "run" / "log.csv").open("a") as log:
        log.write("3,1.0,9,9,9,9,9,9,9\n")  # a step that was logged but never checkpointed
    train(a, b, tmp_path / "run", TrainOptions(**FAST, steps=3), resume=True, progress=False)
    with (tmp_path / "run" / "log.csv").open() as handle:
        steps = [int(row["step"]) for row in csv.DictReader(handle)]
    assert steps == [1, 2, 3] and losses(tmp_path / "run")[-1] != 9


def test_a_run_that_fails_to_start_leaves_no_empty_folders(extracted, tmp_path, capsys):
    empty = tmp_path / "no-faces"
    empty.mkdir()
    code, err = run_cli(capsys, "--a", extracted["woman"], "--b", empty, "--out", tmp_path / "new" / "run")
    assert code == 1 and err.strip()
    assert not (tmp_path / "new").exists()
