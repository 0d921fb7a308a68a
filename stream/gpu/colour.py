"""Reinhard colour transfer in torch: the twin of ``stream.blend.transfer_colour`` and ``match_colour_lab``.

Lab follows ``cv2.cvtColor`` on float32 images (``COLOR_BGR2Lab`` / ``COLOR_Lab2BGR``) with OpenCV's own
constants: BGR is clipped to [0, 1] and linearised with the sRGB curve, mapped to XYZ relative to the D65
white, and L = 116 f(Y) - 16 (903.3 Y in the dark linear segment), a = 500 (f(X) - f(Y)),
b = 200 (f(Y) - f(Z)). The way back clips linear RGB to [0, 1] before the sRGB curve, so its output always
lies in [0, 1]. Here every step is the formula itself. OpenCV 4.x approximates: for BGR → Lab it
interpolates a 33^3 table in fixed point, which puts its L up to about 0.25 and a, b up to about 0.7 away
from the formula (on real faces the transferred colours still stay within 1/255 of the CPU path); for
Lab → BGR it reads the sRGB curve from a spline table, within 1e-4. tests/stream/test_gpu_colour.py
measures both.

The colour maths run per channel, elementwise (no matmul), so CUDA's TF32 settings cannot change them, and
nothing reads a value back to the host, so no function waits for the GPU. Images are (..., 3, H, W) with
channels along dim -3; work is done in float32 (or float64 for float64 input) and results keep the input's
dtype and device.
"""

from typing import TypeAlias

import torch

BGRFaces: TypeAlias = torch.Tensor  # (N, 3, R, R) float BGR in [0, 1]
LabFaces: TypeAlias = torch.Tensor  # (N, 3, R, R) CIE L*a*b*, L in [0, 100], as cv2 makes it from float
FaceWeights: TypeAlias = torch.Tensor  # (N, R, R) in [0, 1], where each face's colour is measured

# OpenCV's sRGB2XYZ_D65 and XYZ2sRGB_D65 (rows: outputs, columns: inputs) and D65 white point
_RGB_TO_XYZ = (
    (0.412453, 0.357580, 0.180423),
    (0.212671, 0.715160, 0.072169),
    (0.019334, 0.119193, 0.950227),
)
_XYZ_TO_RGB = (
    (3.240479, -1.53715, -0.498535),
    (-0.969256, 1.875991, 0.041556),
    (0.055648, -0.204043, 1.057311),
)
_WHITE = (0.950456, 1.0, 1.088754)
_EPSILON = 0.008856  # (6 / 29)^3, where f(t) turns from cube root to linear
_KAPPA = 903.3  # (29 / 3)^3
_SLOPE = 7.787  # (29 / 3)^3 / 116, slope of f's linear segment
_BIAS = 16.0 / 116.0
_DARK_L = 8.0  # L of the dark segment's end, (6 / 29)^3 (29 / 3)^3, as OpenCV's Lab → BGR rounds it
_DARK_F = 6.0 / 29.0  # f at the same point
_FLAT_STD = 1e-6  # a face channel with less spread than this is flat: it takes the crop's mean


def _working(tensor: torch.Tensor, name: str) -> torch.Tensor:
    """``tensor`` in float32 at least; it must be floating point with 3 channels along dim -3."""
    if not tensor.is_floating_point() or tensor.dim() < 3 or tensor.shape[-3] != 3:
        shape = tuple(tensor.shape)
        raise ValueError(f"{name} must be a float (..., 3, H, W) tensor, got {tensor.dtype} {shape}")
    return tensor.to(torch.promote_types(tensor.dtype, torch.float32))


def _mix(rows: tuple[tuple[float, ...], ...], channels: tuple[torch.Tensor, ...]) -> list[torch.Tensor]:
    """Each row of a 3 x 3 matrix applied to three channel planes: a colour-space change, elementwise."""
    first, second, third = channels
    return [row[0] * first + row[1] * second + row[2] * third for row in rows]


def _linearise(srgb: torch.Tensor) -> torch.Tensor:
    """sRGB in [0, 1] → linear light."""
    return torch.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def _encode(linear: torch.Tensor) -> torch.Tensor:
    """Linear light in [0, 1] → sRGB."""
    curve = 1.055 * linear.clamp_min(0.0031308) ** (1 / 2.4) - 0.055
    return torch.where(linear <= 0.0031308, 12.92 * linear, curve)


def _f(ratio: torch.Tensor) -> torch.Tensor:
    """CIE's f(t) of a white-relative X, Y or Z (never negative here)."""
    return torch.where(ratio > _EPSILON, ratio ** (1 / 3), _SLOPE * ratio + _BIAS)


def _f_inverse(value: torch.Tensor) -> torch.Tensor:
    return torch.where(value <= _DARK_F, (value - _BIAS) / _SLOPE, value**3)


def bgr_to_lab(image: torch.Tensor) -> torch.Tensor:
    """(..., 3, H, W) float BGR → Lab as ``cv2.cvtColor(image, cv2.COLOR_BGR2Lab)`` makes it from float32;
    values outside [0, 1] count as 0 or 1, as in OpenCV."""
    blue, green, red = _linearise(_working(image, "image").clamp(0.0, 1.0)).unbind(-3)
    rows = tuple(tuple(c / white for c in row) for row, white in zip(_RGB_TO_XYZ, _WHITE, strict=True))
    x, y, z = _mix(rows, (red, green, blue))
    fx, fy, fz = _f(x), _f(y), _f(z)
    lightness = torch.where(y > _EPSILON, 116.0 * fy - 16.0, _KAPPA * y)
    return torch.stack([lightness, 500.0 * (fx - fy), 200.0 * (fy - fz)], dim=-3).to(image.dtype)


def lab_to_bgr(lab: torch.Tensor) -> torch.Tensor:
    """(..., 3, H, W) Lab → BGR in [0, 1] as ``cv2.cvtColor(lab, cv2.COLOR_Lab2BGR)`` makes it from float32:
    colours outside the sRGB gamut are clipped per channel in linear light."""
    lightness, a, b = _working(lab, "lab").unbind(-3)
    dark = lightness <= _DARK_L
    y = torch.where(dark, lightness / _KAPPA, ((lightness + 16.0) / 116.0) ** 3)
    fy = torch.where(dark, _SLOPE * y + _BIAS, (lightness + 16.0) / 116.0)
    x, z = _f_inverse(a / 500.0 + fy), _f_inverse(fy - b / 200.0)
    rows = tuple(tuple(c * white for c, white in zip(row, _WHITE, strict=True)) for row in _XYZ_TO_RGB)
    red, green, blue = (_encode(channel.clamp(0.0, 1.0)) for channel in _mix(rows, (x, y, z)))
    return torch.stack([blue, green, red], dim=-3).to(lab.dtype)


def _weighted_stats(image: torch.Tensor, weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per face and channel weighted mean and std, (N, 3, 1, 1) each, of ``image`` (N, 3, H, W) under
    ``weights`` (N, 1, H, W) whose sums (N, 1, 1, 1) are positive. Two passes: the spread is summed around
    the mean, so no large squares cancel."""
    total = weights.sum(dim=(-2, -1), keepdim=True)
    mean = (weights * image).sum(dim=(-2, -1), keepdim=True) / total
    variance = (weights * (image - mean) ** 2).sum(dim=(-2, -1), keepdim=True) / total
    return mean, variance.sqrt()


def match_colour(face_lab: LabFaces, crop_lab: LabFaces, weights: FaceWeights) -> LabFaces:
    """``face_lab`` with each face's weighted per-channel Lab mean and std made those of its crop: Reinhard
    et al., "Color transfer between images", 2001, batched. A flat face channel takes the crop's mean; a
    face whose weights are all zero comes back unchanged.

    The statistics are summed in float64, as on the CPU path: a 256 px face sums 65536 products of Lab
    values up to 100, and the tensors are small enough that the wider type costs nothing noticeable; the
    face itself is rescaled in float32.
    """
    face = _working(face_lab, "face_lab")
    if face_lab.dim() != 4 or crop_lab.shape != face_lab.shape or weights.shape != face_lab[:, 0].shape:
        raise ValueError(
            "expected face_lab and crop_lab (N, 3, H, W) and weights (N, H, W), got "
            f"{tuple(face_lab.shape)}, {tuple(crop_lab.shape)} and {tuple(weights.shape)}"
        )
    measure = weights.to(torch.float64)[:, None]
    present = (measure > 0).flatten(1).any(dim=1).view(-1, 1, 1, 1)
    measure = torch.where(present, measure, 1.0)
    face_mean, face_std = _weighted_stats(face.to(torch.float64), measure)
    crop_mean, crop_std = _weighted_stats(crop_lab.to(torch.float64), measure)
    scale = torch.where(face_std > _FLAT_STD, crop_std / face_std.clamp_min(_FLAT_STD), 0.0)
    offset = crop_mean - face_mean * scale
    scale, offset = torch.where(present, scale, 1.0), torch.where(present, offset, 0.0)
    return (face * scale.to(face.dtype) + offset.to(face.dtype)).to(face_lab.dtype)


def transfer_colour(face_bgr: BGRFaces, crop_bgr: BGRFaces, weights: FaceWeights) -> BGRFaces:
    """RCT, batched: each face with the Lab mean and std of its crop, both measured with its ``weights``,
    as ``stream.blend.transfer_colour`` does it for one face; BGR out in [0, 1] by ``lab_to_bgr``."""
    return lab_to_bgr(match_colour(bgr_to_lab(face_bgr), bgr_to_lab(crop_bgr), weights))
