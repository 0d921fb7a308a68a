import numpy as np
import pytest
import torch

from trained.augment import transfer_colour
from trained.checkpoint import load_model
from trained.code_alignment import CodeCritic, critic_accuracy, critic_loss, moment_gap, separation
from trained.data import load_faces
from trained.losses import LossWeights
from trained.session import TrainOptions
from trained.train import train


def codes(seed: int, shift: float, scale: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    a = torch.randn(64, 16, generator=generator)
    b = torch.randn(64, 16, generator=generator) + shift
    return a * scale, b * scale


def test_the_moment_gap_is_zero_for_one_distribution_and_grows_with_the_shift():
    same = moment_gap(*codes(0, 0.0))
    assert same < 0.1 < moment_gap(*codes(0, 1.0)) < moment_gap(*codes(0, 3.0))


def test_the_moment_gap_cannot_be_lowered_by_shrinking_the_code():
    """Shrinking every code toward zero would make both decoders draw the mean face: it must not pay."""
    a, b = codes(1, 2.0)
    assert moment_gap(a * 1e-2, b * 1e-2) == pytest.approx(float(moment_gap(a, b)), rel=1e-3)


def test_separation_is_the_distance_of_the_means_in_standard_deviations():
    generator = torch.Generator().manual_seed(3)
    a, b = torch.zeros(2000, 4), torch.zeros(2000, 4)
    a[:, 0], b[:, 0] = torch.randn(2000, generator=generator) + 5.0, torch.randn(2000, generator=generator)
    assert separation(a, b) == pytest.approx(5.0, abs=0.2)


def test_the_critic_learns_to_tell_separated_codes_apart():
    a, b = codes(2, 1.5)
    critic = CodeCritic(16)
    optimizer = torch.optim.Adam(critic.parameters(), lr=1e-2)
    before = critic_accuracy(critic, a, b)
    for _ in range(200):
        optimizer.zero_grad()
        critic_loss(critic, a, b).backward()
        optimizer.step()
    assert critic_accuracy(critic, a, b) > max(0.9, before)


def as_tensor(faces: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(faces.transpose(0, 3, 1, 2), np.float32))


def code_separation(run, faces_a, faces_b) -> float:
    """Separation of A's codes (raw faces, as at inference) from B's codes (recoloured toward A, as B's
    decoder sees them in training): B's decoder draws a swap well when A's codes look like those."""
    model, _ = load_model(run)
    references = np.random.default_rng(0).integers(0, len(faces_a), len(faces_b))
    recoloured = np.stack([
        transfer_colour(face.astype(np.float32) / 255, faces_a.faces[r].astype(np.float32) / 255)
        for face, r in zip(faces_b.faces, references, strict=True)
    ])  # fmt: skip
    with torch.no_grad():
        _, code_a = model.encode(as_tensor(faces_a.faces / 255.0))
        _, code_b = model.encode(as_tensor(recoloured))
        return separation(code_a, code_b)


@pytest.mark.slow
def test_code_alignment_brings_the_two_identities_codes_together_on_real_faces(extracted, tmp_path):
    """Same data, seed and steps; the only difference is the code-alignment terms (default weights).
    Measured over every face of both clips: 0.78x and 0.82x for seeds 0 and 2 when this was written."""
    faces_a, faces_b = load_faces(extracted["woman"], 64), load_faces(extracted["man"], 64)
    measured = {}
    for name, weights in (("on", LossWeights()), ("off", LossWeights(code_moments=0.0, code_critic=0.0))):
        options = TrainOptions(preset="lite", resolution=64, batch=8, steps=60, learning_rate=3e-4,
                               weights=weights)  # fmt: skip
        train(extracted["woman"], extracted["man"], tmp_path / name, options, progress=False)
        measured[name] = code_separation(tmp_path / name, faces_a, faces_b)
    assert measured["on"] < 0.9 * measured["off"], measured
