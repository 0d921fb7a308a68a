"""Keeping the shared code shared: A's and B's bottleneck codes must come from one distribution.

A swap feeds A's code to B's decoder. If the encoder separates the two people (background, skin, light —
with two clips and little else in common it does, completely), B's decoder never sees codes like A's and
answers them with noise. Two terms push the codes together from the first step:

- ``moment_gap``: per feature, the difference of A's and B's batch means and standard deviations, in units
  of their pooled standard deviation. Scale-invariant: the variance it divides by is not detached, so the
  encoder cannot satisfy it by shrinking the code (which makes every face the mean face).
- ``CodeCritic``: a linear classifier (DeepFaceLab's "true face power" uses a small discriminator the same
  way) trained to tell A's codes from B's, while the encoder is trained to leave it at 50/50.
"""

import torch
import torch.nn.functional as F
from torch import nn

EPSILON = 1e-8  # guards a zero variance only: any larger constant would reward a shrinking code


def moment_gap(code_a: torch.Tensor, code_b: torch.Tensor) -> torch.Tensor:
    """Mean over features of ((mean_a - mean_b)² + (std_a - std_b)²) / pooled variance; codes (N, D)."""
    mean_a, mean_b = code_a.mean(dim=0), code_b.mean(dim=0)
    std_a, std_b = code_a.std(dim=0), code_b.std(dim=0)
    pooled = (std_a**2 + std_b**2) / 2 + EPSILON
    return (((mean_a - mean_b) ** 2 + (std_a - std_b) ** 2) / pooled).mean()


def separation(code_a: torch.Tensor, code_b: torch.Tensor) -> float:
    """How far apart the two identities' codes lie: the distance between their means along the line
    joining them, in pooled standard deviations of the codes projected on that line (0: the same)."""
    direction = code_a.mean(dim=0) - code_b.mean(dim=0)
    direction = direction / direction.norm().clamp_min(1e-12)
    along_a, along_b = code_a @ direction, code_b @ direction
    pooled = ((along_a.var() + along_b.var()) / 2).sqrt().clamp_min(1e-12)
    return float((along_a.mean() - along_b.mean()).abs() / pooled)


class CodeCritic(nn.Module):
    """A linear classifier on the shared code: logit > 0 means "this is A's"."""

    def __init__(self, dims: int) -> None:
        super().__init__()
        self.linear = nn.Linear(dims, 1)

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        return self.linear(code).squeeze(-1)


def critic_loss(critic: CodeCritic, code_a: torch.Tensor, code_b: torch.Tensor) -> torch.Tensor:
    """The critic's own loss: tell A (1) from B (0), on codes detached from the encoder."""
    logits_a, logits_b = critic(code_a.detach()), critic(code_b.detach())
    return F.binary_cross_entropy_with_logits(
        logits_a, torch.ones_like(logits_a)
    ) + F.binary_cross_entropy_with_logits(logits_b, torch.zeros_like(logits_b))


def confusion_loss(critic: CodeCritic, code_a: torch.Tensor, code_b: torch.Tensor) -> torch.Tensor:
    """The encoder's loss against the critic: both identities' codes judged 50/50."""
    logits = critic(torch.cat([code_a, code_b]))
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, 0.5))


def critic_accuracy(critic: CodeCritic, code_a: torch.Tensor, code_b: torch.Tensor) -> float:
    with torch.no_grad():
        right = (critic(code_a) > 0).float().sum() + (critic(code_b) <= 0).float().sum()
    return float(right) / (len(code_a) + len(code_b))
