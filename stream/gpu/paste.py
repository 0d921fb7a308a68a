"""Crop, mask and paste-back in torch: the twin of ``stream.align.warp_crop`` and ``stream.blend``.

Same conventions as the CPU path: ``matrix`` maps frame pixels to crop pixels, pixel centres sit on integer
coordinates, crops repeat the frame's edge pixels, the mask counts as 0 outside the crop, and the composite
is round(alpha * face + (1 - alpha) * frame) with the face clipped to [0, 1]. The functions work on any torch
device, so the CPU test suite checks them against the Numba kernels; the pipeline runs them on CUDA.

Nothing here copies from the host or reads back from the device, so a frame's work queues on the GPU
without waiting for it. Coordinates go to ``grid_sample`` normalised with ``align_corners=True``: -1 and 1
are the centres of the first and last pixels.
"""

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray

from stream.align import invert_affine
from stream.blend import gaussian_weights
from stream.types import Affine


def _normalised(coordinates: torch.Tensor, extent: int) -> torch.Tensor:
    """Pixel coordinates along an axis of ``extent`` pixels → grid_sample's [-1, 1]."""
    return coordinates * (2.0 / max(extent - 1, 1)) - 1.0


def sample_at(images: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(N, C, h, w): ``images`` (N, C, H, W) float read bilinearly at pixel coordinates ``x`` and ``y``
    (N, h, w) each; outside the images their edge pixels are repeated (``cv2.BORDER_REPLICATE``), as
    ``cv2.remap`` with ``INTER_LINEAR`` reads them."""
    height, width = images.shape[-2:]
    grid = torch.stack([_normalised(x, width), _normalised(y, height)], dim=-1).to(images.dtype)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=True)


def warp_images(images: torch.Tensor, to_source: torch.Tensor, size: int) -> torch.Tensor:
    """(N, C, size, size): each of ``images`` (N, C, H, W) float warped by its affine ``to_source``
    (N, 2, 3), which maps output pixels → source pixels (``cv2.warpAffine`` with ``WARP_INVERSE_MAP``,
    edges repeated)."""
    steps = torch.arange(size, device=images.device, dtype=to_source.dtype)
    v, u = torch.meshgrid(steps, steps, indexing="ij")
    points = torch.stack([u, v, torch.ones_like(u)], dim=-1).reshape(1, -1, 3)  # (1, size², 3)
    mapped = (points @ to_source.transpose(1, 2)).reshape(len(to_source), size, size, 2)
    return sample_at(images, mapped[..., 0], mapped[..., 1])


def crop_faces(region: torch.Tensor, to_region: torch.Tensor, size: int) -> torch.Tensor:
    """(N, 3, size, size) crops of ``region`` (3, H, W) float; ``to_region`` (N, 2, 3) maps crop pixels →
    region pixels (the inverse of the alignment). Outside the region its edge pixels are repeated
    (``cv2.BORDER_REPLICATE``)."""
    return warp_images(region.unsqueeze(0).expand(len(to_region), -1, -1, -1), to_region, size)


def gaussian_taps(radius: int) -> torch.Tensor:
    """(2 * radius + 1,) normalised float32 taps, sigma = radius / 3: ``stream.blend``'s feather taps."""
    return torch.from_numpy(gaussian_weights(radius))


def prepare_alpha(masks: torch.Tensor, erode: int, taps: torch.Tensor) -> torch.Tensor:
    """(N, R, R) masks in [0, 1] → blend weights: eroded by ``erode`` pixels (square min filter), then
    feathered with ``taps`` (separable Gaussian, ``gaussian_taps``), with zeros beyond the crop's edge for
    both. ``BlendOptions.radii_px`` gives the radii."""
    alpha = masks.unsqueeze(1)
    if erode:
        padded = F.pad(alpha, (erode, erode, erode, erode), value=0.0)
        alpha = -F.max_pool2d(-padded, kernel_size=2 * erode + 1, stride=1)
    feather = len(taps) // 2
    if feather:
        alpha = F.conv2d(alpha, taps.view(1, 1, -1, 1), padding=(feather, 0))
        alpha = F.conv2d(alpha, taps.view(1, 1, 1, -1), padding=(0, feather))
    return alpha.squeeze(1)


def composite(
    region: torch.Tensor, face: torch.Tensor, alpha: torch.Tensor, matrix: torch.Tensor, interpolation: str
) -> None:
    """Warp ``face`` (3, R, R) BGR and ``alpha`` (R, R) into ``region`` (H, W, 3) uint8, in place;
    ``matrix`` (2, 3), on the region's device, maps region pixels → crop pixels. The face is sampled with
    ``interpolation`` ("bicubic" or "bilinear", ``BlendOptions.interpolation``), alpha bilinearly. Pixels
    with zero alpha keep their value."""
    height, width = region.shape[:2]
    size = alpha.shape[-1]
    m = matrix.to(torch.float32)
    ys = torch.arange(height, device=region.device, dtype=torch.float32)[:, None]
    xs = torch.arange(width, device=region.device, dtype=torch.float32)[None, :]
    u = m[0, 0] * xs + m[0, 1] * ys + m[0, 2]
    v = m[1, 0] * xs + m[1, 1] * ys + m[1, 2]
    grid = torch.stack([_normalised(u, size), _normalised(v, size)], dim=-1).unsqueeze(0)
    weight = F.grid_sample(alpha[None, None], grid, padding_mode="zeros", align_corners=True)[0, 0]
    colour = F.grid_sample(face[None], grid, mode=interpolation, padding_mode="border", align_corners=True)[0]
    weight = weight.clamp(0.0, 1.0).unsqueeze(-1)
    blended = weight * 255.0 * colour.clamp(0.0, 1.0).permute(1, 2, 0) + (1.0 - weight) * region
    painted = (blended + 0.5).clamp(max=255.0).to(torch.uint8)
    region.copy_(torch.where(weight > 0.0, painted, region))  # zero alpha writes nothing, even beside a NaN


def shifted(matrix: Affine, x0: int, y0: int) -> Affine:
    """``matrix`` (frame → crop) for a region whose top-left pixel is frame pixel (x0, y0)."""
    moved = np.array(matrix, np.float64, copy=True)
    moved[:, 2] += moved[:, 0] * x0 + moved[:, 1] * y0
    return moved


def both_ways(matrices: list[Affine], paste: list[Affine] | None = None) -> NDArray[np.float64]:
    """(N, 2, 2, 3), to upload in one copy: each face's region → crop matrix for the paste-back (``paste``,
    default ``matrices``: the face pasted as it was cut) and the inverse of ``matrices``, crop → region,
    for the cut."""
    pasted = matrices if paste is None else paste
    return np.stack([np.stack([out, invert_affine(cut)]) for out, cut in zip(pasted, matrices, strict=True)])
