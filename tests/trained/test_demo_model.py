"""The shipped demo model: present, small, loadable without running code, and as good as its card says."""

import re

import numpy as np
import torch

from trained.checkpoint import load_model
from trained.data import load_faces, split_holdout
from trained.demo import CARD, CHECKPOINT, PREVIEW
from trained.preview import reconstruction_ssim, swap_faces


def test_the_demo_checkpoint_is_small_and_self_describing():
    assert CHECKPOINT.stat().st_size <= 20 * 1024 * 1024
    model, state = load_model(CHECKPOINT)
    assert state["preset"] == "lite" and model.config.resolution == 96
    assert state["labels"] == {"a": "woman", "b": "man"}
    assert state["alignment"] == {
        "face_type": "whole_face",
        "coverage": 1.0,
        "align_template": "swapcam-fm2d-v1",
    }
    assert "optimizer" not in state and all(torch.isfinite(t).all() for t in state["model"].values())


def card_value(label: str) -> float:
    match = re.search(rf"{re.escape(label)}[^0-9\n]*([0-9.]+)", CARD.read_text())
    assert match, f"{label} not found in the model card"
    return float(match.group(1))


def test_held_out_reconstruction_is_what_the_card_states(extracted):
    """The last 10% of each clip was held out of training; the card's SSIM must be reproducible."""
    model, _ = load_model(CHECKPOINT)
    for key, name in (("a", "woman"), ("b", "man")):
        held = split_holdout(load_faces(extracted[name], 96), 0.1)[1]
        measured = reconstruction_ssim(model, held, key)
        stated = card_value(f"Held-out SSIM {key.upper()}→{key.upper()}")
        assert abs(measured - stated) < 0.01, (key, measured, stated)


def test_a_to_b_is_not_a_copy_of_the_reconstruction(extracted):
    model, _ = load_model(CHECKPOINT)
    faces = load_faces(extracted["woman"], 96).faces[::40]
    swapped, reconstructed = swap_faces(model, faces, "b"), swap_faces(model, faces, "a")
    assert np.abs(swapped.astype(float) - reconstructed).mean() > 5


def test_the_card_and_its_preview_are_shipped():
    text = CARD.read_text()
    for heading in ("Data", "Training", "Results", "How good is it"):
        assert f"## {heading}" in text
    assert PREVIEW.stat().st_size > 10_000
