import pytest
import torch

from trained.face_critic import FaceCritic, critic_accuracy, critic_loss, realism_loss
from trained.losses import LossWeights
from trained.session import TrainOptions
from trained.train import train

FAST = {"preset": "lite", "resolution": 64, "batch": 4, "preview_every": 1000, "save_every": 1000}


def textured_and_blurred(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Faces with fine texture and the same faces blurred: what a reconstruction loss alone draws."""
    generator = torch.Generator().manual_seed(seed)
    sharp = torch.rand(8, 3, 64, 64, generator=generator)
    blurred = torch.nn.functional.avg_pool2d(sharp, 5, stride=1, padding=2, count_include_pad=False)
    return sharp, blurred


def test_the_critic_judges_one_logit_per_patch():
    assert FaceCritic()(torch.zeros(2, 3, 96, 96)).shape == (2, 1, 12, 12)


def train_critic(critic: FaceCritic, real: torch.Tensor, drawn: torch.Tensor) -> FaceCritic:
    optimizer = torch.optim.Adam(critic.parameters(), lr=2e-3)
    for _ in range(60):
        optimizer.zero_grad()
        critic_loss(critic, real, drawn).backward()
        optimizer.step()
    return critic


def test_the_critic_learns_to_tell_texture_from_blur():
    sharp, blurred = textured_and_blurred(0)
    critic = FaceCritic()
    before = critic_accuracy(critic, sharp, blurred)
    assert critic_accuracy(train_critic(critic, sharp, blurred), sharp, blurred) > max(0.9, before)


def test_the_realism_term_pushes_the_drawn_faces_toward_what_the_critic_takes_for_real():
    sharp, blurred = textured_and_blurred(1)
    critic = train_critic(FaceCritic(), sharp, blurred)
    drawn = blurred.clone().requires_grad_(True)
    before = float(realism_loss(critic, drawn).detach())
    for _ in range(3):
        (gradient,) = torch.autograd.grad(realism_loss(critic, drawn), drawn)
        with torch.no_grad():
            drawn -= 1e-2 * gradient.sign()
    assert float(realism_loss(critic, drawn).detach()) < 0.9 * before


def test_a_run_with_the_face_critic_logs_it_and_resumes_exactly(extracted, tmp_path):
    """The critic's weights and optimizer travel in the checkpoint: a resumed run repeats the straight one."""
    a, b = extracted["woman"], extracted["man"]
    weights = LossWeights(face_critic=1.0)
    train(a, b, tmp_path / "straight", TrainOptions(**FAST, steps=4, weights=weights), progress=False)
    train(a, b, tmp_path / "resumed", TrainOptions(**FAST, steps=3, weights=weights), progress=False)
    train(
        a,
        b,
        tmp_path / "resumed",
        TrainOptions(**FAST, steps=4, weights=weights),
        resume=True,
        progress=False,
    )
    rows = {name: (tmp_path / name / "log.csv").read_text().splitlines() for name in ("straight", "resumed")}
    header = rows["straight"][0].split(",")
    last = dict(zip(header, rows["straight"][-1].split(","), strict=True))
    assert 0.0 <= float(last["face_critic_acc"]) <= 1.0 and float(last["realism"]) > 0
    resumed = dict(zip(header, rows["resumed"][-1].split(","), strict=True))
    assert float(resumed["loss"]) == pytest.approx(float(last["loss"]), rel=1e-6)
    assert float(resumed["realism"]) == pytest.approx(float(last["realism"]), rel=1e-6)


def test_the_face_critic_can_be_switched_on_for_a_resumed_run(extracted, tmp_path, capsys):
    """DeepFaceLab's way: train the faces first, then sharpen them with the adversarial term. The change
    is said, so that resuming a sharpening run without the option does not drop it unnoticed."""
    a, b = extracted["woman"], extracted["man"]
    train(a, b, tmp_path / "run", TrainOptions(**FAST, steps=2), progress=False)
    options = TrainOptions(**FAST, steps=3, weights=LossWeights(face_critic=1.0))
    result = train(a, b, tmp_path / "run", options, resume=True, progress=False)
    assert result.step == 3 and "realism" in result.losses
    assert "--face-critic 0 so far, 1 from step 2 on" in capsys.readouterr().err


def test_the_weight_is_checked():
    with pytest.raises(ValueError, match=r"--face-critic must be 0\.\.100, got -1"):
        TrainOptions(weights=LossWeights(face_critic=-1.0))
