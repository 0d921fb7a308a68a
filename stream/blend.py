"""Blend stage maths: paste a model's swapped face back into the camera frame, in place.

Per face: the model's mask is eroded and feathered in crop space (R x R, cheap), the swapped face takes the
colour statistics of the original crop (Reinhard colour transfer, DeepFaceLab's "RCT"), and every frame
pixel of the face's region of interest (ROI) is mapped into the crop, sampled (bicubic by default) and
composited. Nothing outside the ROI is read or written, and every kernel releases the GIL so the blend
thread runs beside the others.

Conventions: ``matrix`` maps frame pixels to crop pixels, pixel centres sit on integer coordinates and
crop(u, v) = frame(matrix^-1 (u, v)), as ``cv2.warpAffine`` and ``stream.align.warp_crop`` use it. The
mask counts as 0 outside the crop, so erosion and feathering also fade the crop's own square edge and no
hard crop border can reach the frame.
"""

from typing import TypeAlias

import cv2
import numba
import numpy as np
from numpy.typing import NDArray

from stream.align import invert_affine, transform_points
from stream.blend_options import BlendOptions
from stream.packet import SwapMask, SwappedFace
from stream.types import Affine, BGRCrop, BGRFrame

AlphaMask: TypeAlias = NDArray[np.float32]  # (R, R) blend weights in [0, 1], crop space
LabFace: TypeAlias = NDArray[np.float32]  # (R, R, 3) CIE L*a*b*, L in [0, 100], as cv2 makes it from float
Roi: TypeAlias = tuple[int, int, int, int]  # x0, y0, x1, y1 in frame pixels, ends exclusive


@numba.njit(nogil=True, cache=True)
def _erode_columns(mask: AlphaMask, radius: int) -> AlphaMask:
    """Min over each column's window of 2 * radius + 1 pixels; rows beyond the ends count as 0.

    Whole rows are combined at a time so the inner loop runs over contiguous memory and vectorises.
    """
    height, width = mask.shape
    out = mask.copy()
    for y in range(height):
        dst = out[y]
        if y < radius or y >= height - radius:
            for x in range(width):
                dst[x] = min(dst[x], 0.0)
        for k in range(max(-radius, -y), min(radius, height - 1 - y) + 1):
            src = mask[y + k]
            for x in range(width):
                dst[x] = min(dst[x], src[x])
    return out


@numba.njit(nogil=True, cache=True)
def erode_mask(mask: SwapMask, radius: int) -> AlphaMask:
    """(R, R) square min filter of side 2 * radius + 1, separable: columns, then rows through a transpose."""
    down = _erode_columns(mask, radius)
    return np.ascontiguousarray(_erode_columns(np.ascontiguousarray(down.T), radius).T)


@numba.njit(nogil=True, cache=True)
def gaussian_weights(radius: int) -> NDArray[np.float32]:
    """(2 * radius + 1,) normalised Gaussian taps, sigma = radius / 3, so the cut-off tails hold 0.3%."""
    if radius == 0:
        return np.ones(1, np.float32)
    offsets = np.arange(-radius, radius + 1).astype(np.float64)
    weights = np.exp(-0.5 * (offsets * 3.0 / radius) ** 2)
    return (weights / weights.sum()).astype(np.float32)


@numba.njit(nogil=True, cache=True)
def _blur_columns(mask: AlphaMask, weights: NDArray[np.float32]) -> AlphaMask:
    """Correlate each column with ``weights``; rows beyond the ends count as 0. Whole rows at a time."""
    height, width = mask.shape
    radius = len(weights) // 2
    out = np.zeros_like(mask)
    for y in range(height):
        dst = out[y]
        for k in range(max(-radius, -y), min(radius, height - 1 - y) + 1):
            src, weight = mask[y + k], weights[k + radius]
            for x in range(width):
                dst[x] += weight * src[x]
    return out


@numba.njit(nogil=True, cache=True)
def feather_mask(mask: AlphaMask, radius: int) -> AlphaMask:
    """(R, R) separable Gaussian blur reaching ``radius`` pixels, zero outside the crop."""
    weights = gaussian_weights(radius)
    down = _blur_columns(mask, weights)
    return np.ascontiguousarray(_blur_columns(np.ascontiguousarray(down.T), weights).T)


@numba.njit(nogil=True, cache=True)
def _weighted_stats(image: LabFace, weights: AlphaMask) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per-channel weighted mean and standard deviation, (3,) each; float64 sums in one pass."""
    total = sum0 = sum1 = sum2 = square0 = square1 = square2 = np.float64(0.0)
    height, width = weights.shape
    for y in range(height):
        for x in range(width):
            weight = np.float64(weights[y, x])
            value0, value1, value2 = image[y, x, 0], image[y, x, 1], image[y, x, 2]
            total += weight
            sum0, square0 = sum0 + weight * value0, square0 + weight * value0 * value0
            sum1, square1 = sum1 + weight * value1, square1 + weight * value1 * value1
            sum2, square2 = sum2 + weight * value2, square2 + weight * value2 * value2
    mean = np.array([sum0, sum1, sum2]) / total
    squares = np.array([square0, square1, square2]) / total
    return mean, np.sqrt(np.maximum(squares - mean * mean, 0.0))


@numba.njit(nogil=True, cache=True)
def match_colour_lab(face: LabFace, crop: LabFace, weights: AlphaMask) -> None:
    """Give ``face`` (in place) the weighted per-channel mean and std of ``crop``: Reinhard et al.,
    "Color transfer between images", 2001. A flat face channel takes the crop's mean; all-zero
    ``weights`` leave the face as it is."""
    if not (weights > 0.0).any():
        return
    face_mean, face_std = _weighted_stats(face, weights)
    crop_mean, crop_std = _weighted_stats(crop, weights)
    scale = np.where(face_std > 1e-6, crop_std / np.maximum(face_std, 1e-6), 0.0)
    offset = crop_mean - face_mean * scale
    height, width = weights.shape
    for y in range(height):
        for x in range(width):
            for c in range(3):
                face[y, x, c] = face[y, x, c] * scale[c] + offset[c]


@numba.njit(nogil=True, cache=True)
def _pad_zeros(alpha: AlphaMask) -> AlphaMask:
    """(R + 2, R + 2) ``alpha`` inside a border of zeros."""
    size = alpha.shape[0]
    out = np.zeros((size + 2, size + 2), np.float32)
    out[1 : size + 1, 1 : size + 1] = alpha
    return out


@numba.njit(nogil=True, cache=True)
def _pad_edges(face: SwappedFace, pad: int) -> SwappedFace:
    """(R + 2 pad, R + 2 pad, 3) ``face`` inside a border of ``pad`` pixels that repeats its edge pixels."""
    size = face.shape[0]
    out = np.empty((size + 2 * pad, size + 2 * pad, 3), np.float32)
    for y in range(size + 2 * pad):
        source_y = min(max(y - pad, 0), size - 1)
        for x in range(size + 2 * pad):
            out[y, x] = face[source_y, min(max(x - pad, 0), size - 1)]
    return out


@numba.njit(nogil=True, cache=True)
def _cubic_taps(t: float) -> tuple[np.float32, np.float32, np.float32, np.float32]:
    """Weights of the samples at offsets -1, 0, 1, 2 for a point ``t`` in [0, 1) past sample 0: Keys'
    cubic convolution with a = -0.75, the kernel of ``cv2.INTER_CUBIC`` and torch's ``bicubic``. In float32,
    like the face it weighs (float64 cost the blend a tenth of its time)."""
    a, one = np.float32(-0.75), np.float32(1.0)
    inner_2, inner_3 = a + np.float32(2.0), a + np.float32(3.0)  # |x| <= 1: (a+2)|x|^3 - (a+3)|x|^2 + 1
    outer_1, outer_2, outer_3 = np.float32(5.0) * a, np.float32(8.0) * a, np.float32(4.0) * a  # 1 < |x| < 2
    near = np.float32(t)
    far = one - near  # distances to samples 0 and 1; samples -1 and 2 lie one further out
    outer_near, outer_far = near + one, far + one
    return (
        ((a * outer_near - outer_1) * outer_near + outer_2) * outer_near - outer_3,
        (inner_2 * near - inner_3) * near * near + one,
        (inner_2 * far - inner_3) * far * far + one,
        ((a * outer_far - outer_1) * outer_far + outer_2) * outer_far - outer_3,
    )


@numba.njit(nogil=True, cache=True)
def composite_warped(  # noqa: PLR0917 - a kernel's flat argument list
    frame: BGRFrame, face: SwappedFace, alpha: AlphaMask, matrix: Affine, roi: Roi, cubic: bool
) -> None:
    """Warp ``face`` and ``alpha`` (crop space) into the frame's ``roi`` and composite there, in place.

    Each frame pixel maps through ``matrix`` into the crop; alpha is sampled bilinearly with zeros
    outside the crop, the face bicubically (``cubic``, 4 x 4 samples) or bilinearly with its edge repeated
    (where the edge shows, alpha is already fading). out = round(alpha * face + (1 - alpha) * frame), face
    clipped to [0, 1]; pixels with zero alpha are not written. The inputs are padded so the sampling needs
    no bounds checks.
    """
    x0, y0, x1, y1 = roi
    size = alpha.shape[0]
    weights, colours = _pad_zeros(alpha), _pad_edges(face, 2)
    m00, m01, m02 = matrix[0, 0], matrix[0, 1], matrix[0, 2] + 1.0
    m10, m11, m12 = matrix[1, 0], matrix[1, 1], matrix[1, 2] + 1.0
    for y in range(y0, y1):
        for x in range(x0, x1):
            u, v = m00 * x + m01 * y + m02, m10 * x + m11 * y + m12  # crop coordinates + 1
            if not (0.0 < u < size + 1 and 0.0 < v < size + 1):
                continue
            i, j = int(u), int(v)
            fu, fv = u - i, v - j
            w00, w01 = (1.0 - fu) * (1.0 - fv), fu * (1.0 - fv)
            w10, w11 = (1.0 - fu) * fv, fu * fv
            weight = w00 * weights[j, i] + w01 * weights[j, i + 1] + w10 * weights[j + 1, i]
            weight = min(weight + w11 * weights[j + 1, i + 1], 1.0)
            if weight <= 0.0:
                continue
            b: np.float32 | float  # sums in float32 for the cubic samples, in float64 for the bilinear ones
            g: np.float32 | float
            r: np.float32 | float
            if cubic:  # padded by 2: the 4 x 4 samples start at column i, row j
                across, down = _cubic_taps(fu), _cubic_taps(fv)
                b = g = r = np.float32(0.0)
                for row in range(4):
                    for col in range(4):
                        w = down[row] * across[col]
                        b += w * colours[j + row, i + col, 0]
                        g += w * colours[j + row, i + col, 1]
                        r += w * colours[j + row, i + col, 2]
            else:
                b = g = r = 0.0
                for row, col, w in ((1, 1, w00), (1, 2, w01), (2, 1, w10), (2, 2, w11)):
                    b += w * colours[j + row, i + col, 0]
                    g += w * colours[j + row, i + col, 1]
                    r += w * colours[j + row, i + col, 2]
            for c, colour in ((0, b), (1, g), (2, r)):
                value = weight * 255.0 * min(max(colour, 0.0), 1.0) + (1.0 - weight) * frame[y, x, c]
                frame[y, x, c] = np.uint8(min(value + 0.5, 255.0))


def face_roi(matrix: Affine, size: int, frame_shape: tuple[int, ...]) -> Roi:
    """Frame box that holds every pixel a (size, size) crop can paint, clipped to the frame; may be empty.

    The box bounds the crop square widened by one pixel (bilinear samples there still reach the edge
    pixels) mapped back to the frame, plus one pixel of slack for rounding in the inverse.
    """
    corners = np.array([[-1.0, -1.0], [size, -1.0], [size, size], [-1.0, size]])
    in_frame = transform_points(corners, invert_affine(matrix))
    (left, top), (right, bottom) = np.floor(in_frame.min(0)), np.ceil(in_frame.max(0)) + 1
    height, width = frame_shape[:2]
    return (
        int(np.clip(left, 0, width)),
        int(np.clip(top, 0, height)),
        int(np.clip(right, 0, width)),
        int(np.clip(bottom, 0, height)),
    )


def scaled_about_centre(matrix: Affine, scale: float, size: int) -> Affine:
    """The frame → crop ``matrix`` that pastes a (size, size) crop ``scale`` times as large, about its
    centre: crop point c + (u - c) / scale is sampled where ``matrix`` would sample u."""
    if scale == 1.0:
        return matrix
    centre = (size - 1) / 2
    return np.asarray(matrix, np.float64) / scale + np.array([[0.0, 0.0, centre * (1 - 1 / scale)]] * 2)


def prepare_alpha(mask: SwapMask, options: BlendOptions) -> AlphaMask:
    """(R, R) blend weights: the model's mask eroded, then feathered."""
    erode_px, feather_px = options.radii_px(mask.shape[0])
    return feather_mask(erode_mask(mask, erode_px), feather_px)


def transfer_colour(swapped: SwappedFace, crop: BGRCrop | SwappedFace, weights: AlphaMask) -> SwappedFace:
    """RCT: ``swapped`` (float BGR in [0, 1]) with the Lab mean and std of ``crop`` (uint8, or float in
    [0, 1]), both measured with ``weights``; not clipped. The one CPU colour transfer: training recolours
    with it too, with unit weights (``trained.augment``); ``stream.gpu.colour`` is its torch twin."""
    reference = crop.astype(np.float32) * np.float32(1 / 255) if crop.dtype == np.uint8 else crop
    # cvtColor keeps the float32 of its input
    face_lab = np.asarray(cv2.cvtColor(swapped, cv2.COLOR_BGR2Lab), np.float32)
    crop_lab = np.asarray(
        cv2.cvtColor(np.ascontiguousarray(reference, np.float32), cv2.COLOR_BGR2Lab), np.float32
    )
    match_colour_lab(face_lab, crop_lab, weights)
    return np.asarray(cv2.cvtColor(face_lab, cv2.COLOR_Lab2BGR), np.float32)


def _check_face(frame: BGRFrame, swapped: SwappedFace, mask: SwapMask, crop: BGRCrop, matrix: Affine) -> None:
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3 or not frame.flags.c_contiguous:
        raise ValueError(
            f"frame must be a C-contiguous (H, W, 3) uint8 array, got {frame.dtype} {frame.shape} "
            f"(C-contiguous: {frame.flags.c_contiguous})"
        )
    size = mask.shape[0]
    expected = {"swapped": (size, size, 3), "mask": (size, size), "crop": (size, size, 3), "matrix": (2, 3)}
    received = {"swapped": swapped.shape, "mask": mask.shape, "crop": crop.shape, "matrix": matrix.shape}
    if received != expected or crop.dtype != np.uint8:
        raise ValueError(f"expected shapes {expected} and a uint8 crop, got {received} and {crop.dtype}")


def paste_face(  # noqa: PLR0917 - the fields of a stream.packet.Face, in that order, plus the options
    frame: BGRFrame,
    swapped: SwappedFace,
    mask: SwapMask,
    crop: BGRCrop,
    matrix: Affine,
    options: BlendOptions,
) -> None:
    """Blend one swapped face into ``frame`` in place, touching only the face's ROI.

    ``crop`` is the aligned crop the face was swapped from (its colours are the target of the transfer)
    and ``matrix`` the frame → crop affine that made it. A face wholly outside the frame changes nothing.
    """
    _check_face(frame, swapped, mask, crop, matrix)
    matrix = scaled_about_centre(matrix, options.scale, mask.shape[0])
    roi = face_roi(matrix, mask.shape[0], frame.shape)
    x0, y0, x1, y1 = roi
    if x0 >= x1 or y0 >= y1:
        return
    alpha = prepare_alpha(np.ascontiguousarray(mask, np.float32), options)
    face = np.ascontiguousarray(swapped, np.float32)
    if options.colour == "rct":
        face = transfer_colour(face, np.ascontiguousarray(crop), alpha)
    cubic = options.interpolation == "bicubic"
    composite_warped(frame, face, alpha, np.ascontiguousarray(matrix, np.float64), roi, cubic)


def warm_up() -> None:
    """Compile every kernel (or load it from numba's disk cache) for the argument types ``paste_face``
    passes, so the pipeline's first frame does not pay for compilation."""
    size = 8
    frame = np.zeros((size, size, 3), np.uint8)
    face = np.full((size, size, 3), 0.5, np.float32)
    mask = np.ones((size, size), np.float32)
    paste_face(frame, face, mask, frame.copy(), np.eye(2, 3), BlendOptions(erode=0.125, feather=0.125))
    gaussian_weights(1)  # called from Python too, by the GPU paste-back's set-up
