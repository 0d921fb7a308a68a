"""Reconstruction losses: masked DSSIM and MSE on the face, MSE on the mask, more weight on eyes and mouth."""

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class LossWeights:
    dssim: float = 10.0
    mse: float = 10.0
    eyes_mouth: float = 30.0
    mask: float = 10.0
    code_moments: float = 0.5  # trained.code_alignment.moment_gap
    code_critic: float = 0.1  # keeping trained.code_alignment.CodeCritic at 50/50
    face_critic: float = 0.0  # trained.face_critic.realism_loss on B's reconstructions

    def reconstruction(self) -> dict[str, float]:
        return {"dssim": self.dssim, "mse": self.mse, "eyes_mouth": self.eyes_mouth, "mask": self.mask}


def gaussian_window(size: int, sigma: float) -> torch.Tensor:
    coords = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :])[None, None]  # (1, 1, size, size)


def ssim(x: torch.Tensor, y: torch.Tensor, window_size: int = 11) -> torch.Tensor:
    """Mean structural similarity per sample, (N,); inputs (N, C, H, W) in [0, 1]."""
    channels = x.shape[1]
    window = gaussian_window(window_size, 1.5).to(x).expand(channels, 1, window_size, window_size)

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(t, window, groups=channels)

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x**2
    var_y = blur(y * y) - mu_y**2
    cov = blur(x * y) - mu_x * mu_y
    c1, c2 = 0.01**2, 0.03**2
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return ssim_map.mean(dim=(1, 2, 3))


def window_for(resolution: int) -> int:
    """SSIM window that scales with the crop (odd, at least 7)."""
    return max(7, int(resolution / 11.6) | 1)


def reconstruction_loss(
    face: torch.Tensor,
    mask: torch.Tensor,
    target: torch.Tensor,
    target_mask: torch.Tensor,
    regions: torch.Tensor,
    *,
    weights: LossWeights,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Total loss and its parts for one identity's batch; all tensors NCHW in [0, 1]."""
    masked_face, masked_target = face * target_mask, target * target_mask
    parts = {
        "dssim": ((1 - ssim(masked_face, masked_target, window_for(face.shape[-1]))) / 2).mean(),
        "mse": F.mse_loss(masked_face, masked_target),
        "eyes_mouth": ((face - target).abs() * regions).mean(),
        "mask": F.mse_loss(mask, target_mask),
    }
    total = sum(weights.reconstruction()[name] * value for name, value in parts.items())
    return torch.as_tensor(total), {name: float(value.detach()) for name, value in parts.items()}
