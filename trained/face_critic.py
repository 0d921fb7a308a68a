"""A patch critic on the faces B's decoder draws: the adversarial term that makes its output sharp.

Reconstruction losses (DSSIM, MSE) are minimised by the average of what a region could look like, so an
autoencoder draws skin without pores and hair without strands. A critic that looks at patches of about
a third of the face and tells B's real faces from B's decoder's reconstructions gives the decoder a reason
to draw the texture it would otherwise average away (DeepFaceLab's "GAN power", also on the identity being
swapped into only, also with a small weight beside the reconstruction terms).

Only the masked face is judged, as the reconstruction terms judge it: the background is not the decoder's
job.
"""

import itertools

import torch
import torch.nn.functional as F
from torch import nn


class FaceCritic(nn.Module):
    """Three stride-2 convolutions and a 3x3 head: one logit per patch (R/8 x R/8), > 0 meaning "real"."""

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        widths = (3, width, width * 2, width * 4)
        layers: list[nn.Module] = []
        for c_in, c_out in itertools.pairwise(widths):
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*layers, nn.Conv2d(widths[-1], 1, 3, 1, 1))

    def forward(self, faces: torch.Tensor) -> torch.Tensor:
        return self.net(faces)


def realism_loss(critic: FaceCritic, drawn: torch.Tensor) -> torch.Tensor:
    """The decoder's term: the critic should take every patch it drew for real."""
    logits = critic(drawn)
    return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))


def critic_loss(critic: FaceCritic, real: torch.Tensor, drawn: torch.Tensor) -> torch.Tensor:
    """The critic's own loss: real patches 1, drawn ones 0 (drawn detached from the decoder)."""
    logits_real, logits_drawn = critic(real), critic(drawn.detach())
    return F.binary_cross_entropy_with_logits(
        logits_real, torch.ones_like(logits_real)
    ) + F.binary_cross_entropy_with_logits(logits_drawn, torch.zeros_like(logits_drawn))


def critic_accuracy(critic: FaceCritic, real: torch.Tensor, drawn: torch.Tensor) -> float:
    """Share of patches the critic judges right."""
    with torch.no_grad():
        logits_real, logits_drawn = critic(real), critic(drawn)
        right = (logits_real > 0).float().sum() + (logits_drawn <= 0).float().sum()
    return float(right) / (logits_real.numel() + logits_drawn.numel())
