"""Data-parallel training: two gloo processes on the CPU keep identical weights, see disjoint shards, and
write a checkpoint that a single process loads and resumes; `swapcam train --nproc 2` runs under torchrun."""

import argparse
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from stream.cli import main
from trained import batches as batches_module
from trained.checkpoint import latest_checkpoint, load_model
from trained.command import _forwarded, configure
from trained.distributed import ALONE, World, epoch_shard, steps_per_epoch, world_from
from trained.session import TrainOptions, open_session, train_step

TIMEOUT_S = 180  # a hang fails the test instead of stalling the suite


def swapcam(args: list[str]) -> int:
    """Run the CLI in its own process group, killed whole after ``TIMEOUT_S``."""
    command = [sys.executable, "-c", "import sys; from stream.cli import main; sys.exit(main(sys.argv[1:]))"]
    with subprocess.Popen([*command, *args], start_new_session=True) as process:
        try:
            return process.wait(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_epoch_shards_are_disjoint_cover_every_face_and_change_with_the_epoch():
    worlds = [World(rank, 3, rank) for rank in range(3)]
    shards = [epoch_shard(10, world, seed=5, epoch=0) for world in worlds]
    assert sorted(np.concatenate(shards).tolist()) == list(range(10))
    assert sum(len(shard) for shard in shards) == 10 and {len(shard) for shard in shards} <= {3, 4}
    assert not np.array_equal(epoch_shard(10, worlds[0], 5, 1), shards[0])
    assert steps_per_epoch(100, 8, worlds[0]) == 4 and steps_per_epoch(5, 8, worlds[0]) == 1


def test_the_world_comes_from_torchruns_environment():
    assert world_from({}) is ALONE
    assert world_from({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"}) == World(3, 4, 1)


def checksum(model: torch.nn.Module) -> torch.Tensor:
    return torch.stack([p.detach().double().sum() for p in model.parameters()])


def two_ranks(rank: int, port: int, faces: dict[str, str], run: str, report: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE="2")
    torch.set_num_threads(1)
    options = TrainOptions(preset="lite", resolution=64, batch=2, steps=3, device="cpu")
    world = World(rank, 2, rank)
    drawn: list[list[str]] = []
    sample_batch = batches_module.sample_batch

    def recording(rng, data, *args, **kwargs):  # what train_step really draws from
        drawn.append(list(data.names))
        return sample_batch(rng, data, *args, **kwargs)

    batches_module.sample_batch = recording
    session, _ = open_session(
        Path(faces["woman"]), Path(faces["man"]), Path(run), options, False, world=world
    )
    with session:
        agreed, before = [], checksum(session.model)
        for _ in range(3):
            train_step(session, options)
            sums = [torch.zeros_like(checksum(session.model)) for _ in range(2)]
            dist.all_gather(sums, checksum(session.model))
            agreed.append(bool(torch.equal(sums[0], sums[1])))
        moved = not torch.equal(checksum(session.model), before)
    Path(report, f"rank{rank}.json").write_text(
        json.dumps({"agreed": agreed, "names": drawn[::2], "moved": moved})
    )


def test_two_gloo_processes_keep_identical_weights_after_every_step_on_disjoint_shards(extracted, tmp_path):
    faces = {name: str(path) for name, path in extracted.items()}
    args = (free_port(), faces, str(tmp_path / "run"), str(tmp_path))
    ranks = mp.spawn(two_ranks, args=args, nprocs=2, join=False)
    deadline = time.monotonic() + TIMEOUT_S
    while not ranks.join(timeout=max(0.0, deadline - time.monotonic())):  # raises a rank's error
        if time.monotonic() >= deadline:
            for process in ranks.processes:
                process.kill()
            pytest.fail(f"two training processes still running after {TIMEOUT_S} s: a hang")
    reports = [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in range(2)]
    assert all(report["agreed"] == [True, True, True] and report["moved"] for report in reports)
    for step in range(3):
        assert not set(reports[0]["names"][step]) & set(reports[1]["names"][step])
        assert reports[0]["names"][step] and reports[1]["names"][step]


@pytest.mark.slow
def test_nproc_2_trains_under_torchrun_and_its_checkpoint_loads_and_resumes_in_one_process(
    extracted, tmp_path, capsys
):
    run = tmp_path / "run"
    common = ["--a", str(extracted["woman"]), "--b", str(extracted["man"]), "--out", str(run), "--preset",
              "lite", "--resolution", "64", "--batch", "2", "--device", "cpu", "--no-progress",
              "--lr-decay", "1"]  # fmt: skip
    assert swapcam(["train", *common, "--steps", "3", "--nproc", "2"]) == 0
    assert (run / "preview.png").is_file() and (run / "log.csv").read_text().count("\n") == 4  # header + 3
    model, state = load_model(run)
    assert state["step"] == 3 and not any(key.startswith("module.") for key in state["model"])
    assert set(state["model"]) == set(model.state_dict())
    assert main(["train", *common, "--steps", "4", "--resume"]) == 0  # two processes → one
    assert load_model(latest_checkpoint(run))[1]["step"] == 4
    with (run / "log.csv").open() as handle:
        rates = [float(row["lr"]) for row in csv.DictReader(handle)]
    assert len(rates) == 4 and rates == sorted(rates, reverse=True) and rates[0] > rates[-1]


def test_nproc_must_be_positive(extracted, tmp_path, capsys):
    code = main(["train", "--a", str(extracted["woman"]), "--b", str(extracted["man"]),
                 "--out", str(tmp_path), "--nproc", "0"])  # fmt: skip
    assert code != 0 and "--nproc must be at least 1, got 0" in capsys.readouterr().err


def test_the_launcher_forwards_every_option_to_the_processes_it_starts():
    parser = argparse.ArgumentParser()
    configure(parser)
    given = ["--a", "x", "--b", "y", "--out", "z", "--preset", "df128", "--resolution", "96",
             "--architecture", "liae", "--batch", "3", "--minutes", "2.5", "--device", "cpu", "--lr", "3e-05",
             "--lr-decay", "0.5", "--seed", "-4", "--holdout", "0.1",
             "--preview-every", "7", "--save-every", "9", "--keep", "2", "--resume", "--no-flip",
             "--colour-transfer", "both", "--code-moments", "0.25", "--code-critic", "0",
             "--face-critic", "0.5", "--augment", "light", "--no-progress", "--nproc", "4",
             "--augment-on", "device"]  # fmt: skip
    args = parser.parse_args(given)
    again = parser.parse_args(_forwarded(args))
    assert vars(again) == {**vars(args), "nproc": 1}
    options = {action.dest for action in parser._actions} - {"help"}
    unset = [dest for dest in options if getattr(args, dest) == parser.get_default(dest)]
    assert unset == ["steps"], f"give these options a value here so that forwarding them is checked: {unset}"
    with_steps = parser.parse_args(["--a", "x", "--b", "y", "--out", "z", "--steps", "11", "--nproc", "2"])
    assert parser.parse_args(_forwarded(with_steps)).steps == 11  # --steps excludes --minutes above
