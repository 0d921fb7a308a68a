"""The shipped demo model: present, small, loadable without running code, and as good as its card says."""

import json
import re

import numpy as np
import pytest
import torch

from trained.checkpoint import load_model
from trained.data import load_faces, split_holdout
from trained.demo import CARD, CHECKPOINT, PREVIEW
from trained.holdout_eval import holdout_figures
from trained.preview import reconstruction_ssim, swap_faces


def test_the_demo_checkpoint_is_small_and_self_describing():
    assert CHECKPOINT.stat().st_size <= 20 * 1024 * 1024
    model, state = load_model(CHECKPOINT)
    assert state["preset"] == "lite" and model.config.resolution == 96
    assert state["labels"] == {"a": "woman", "b": "man"}
    assert state["alignment"] == {
        "face_type": "face",
        "coverage": 1.0,
        "template": "swapcam-fm2d-v1",
    }
    assert "optimizer" not in state and all(torch.isfinite(t).all() for t in state["model"].values())


def card_value(label: str) -> float:
    match = re.search(rf"{re.escape(label)}[^0-9\n]*([0-9.]+)", CARD.read_text())
    assert match, f"{label} not found in the model card"
    return float(match.group(1))


def test_held_out_reconstruction_is_what_the_card_states(demo_faces):
    """The last 10% of each clip was held out of training; the card's SSIM must be reproducible."""
    model, _ = load_model(CHECKPOINT)
    for key, name in (("a", "woman"), ("b", "man")):
        held = split_holdout(load_faces(demo_faces[name], 96), 0.1)[1]
        measured = reconstruction_ssim(model, held, key)
        stated = card_value(f"reconstruction SSIM {key.upper()}→{key.upper()}")
        assert abs(measured - stated) < 0.01, (key, measured, stated)


def test_a_to_b_is_not_a_copy_of_the_reconstruction(demo_faces):
    model, _ = load_model(CHECKPOINT)
    faces = load_faces(demo_faces["woman"], 96).faces[::40]
    swapped, reconstructed = swap_faces(model, faces, "b"), swap_faces(model, faces, "a")
    assert np.abs(swapped.astype(float) - reconstructed).mean() > 5


def test_the_card_and_its_pictures_are_shipped():
    text = CARD.read_text()
    for heading in ("Data", "Training", "Results", "Where it falls short, and why", "Ablation"):
        assert f"## {heading}" in text
    for picture in (PREVIEW, *(CARD.parent / f"eval{which}.png" for which in ("", "-previous", "-round1"))):
        assert picture.stat().st_size > 10_000


@pytest.mark.slow
def test_held_out_faces_of_a_become_b_as_the_card_states(demo_faces):
    """A's held-out faces swapped into B, judged by the independent recogniser (trained.holdout_eval)."""
    model, _ = load_model(CHECKPOINT)
    held_a = split_holdout(load_faces(demo_faces["woman"], 96), 0.1)[1]
    trained_b = split_holdout(load_faces(demo_faces["man"], 96), 0.1)[0]
    figures = holdout_figures(model.eval(), held_a, trained_b)
    assert figures is not None and figures.faces == 47 and figures.faces_lost <= 1  # the card: 0
    assert figures.closer_to_b_fraction == 1.0
    assert abs(figures.median_distance_b - card_value("held-out median distance to B")) < 0.01


@pytest.mark.slow
def test_the_demo_swap_meets_the_targets_the_card_says_it_meets(tmp_path, capsys):
    """`swapcam eval` on every 8th frame of the woman's clip, through the live pipeline."""
    from stream.cli import main

    assert main(["eval", "--every", "8", "--out", str(tmp_path)]) == 0, capsys.readouterr().err
    summary = json.loads((tmp_path / "report.json").read_text())["summary"]
    assert summary["closer_to_b_fraction"] >= 0.9 and summary["faces_lost"] == 0
    assert summary["mouth_correlation"] >= 0.8
    assert summary["median_distance_b"] < 0.5 and summary["median_distance_a"] > 0.7
