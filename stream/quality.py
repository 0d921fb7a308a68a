"""Objective swap quality from FaceMesh landmarks and pixels: pure functions.

A swap should change who the face is and nothing else: the mouth and eyes must open and close with the
input's, the face must keep its pose, and the swapped region must not flicker more than the input does nor
be much blurrier than the input's face.
Identity is judged elsewhere, by an independent recogniser (``stream.recognise``).
"""

import cv2
import numpy as np
from numpy.typing import NDArray

from stream.align import STABLE_INDICES, eye_centres, transform_points, umeyama
from stream.types import BGRFrame, Landmarks

INNER_LIPS = (13, 14)  # upper and lower inner lip, centre
MOUTH_CORNERS = (78, 308)  # inner corners
EYE_LIDS = ((159, 145), (386, 374))  # (upper, lower) lid of each eye
EYE_CORNERS = ((33, 133), (362, 263))

Series = NDArray[np.float64]  # (T,) one value per frame, NaN where a frame has no face


def inter_ocular(landmarks: Landmarks) -> float:
    """Distance between the two eye centres, pixels: the unit every landmark figure is given in."""
    left, right = eye_centres(landmarks)
    return float(np.linalg.norm(right - left))


def _distance(landmarks: Landmarks, pair: tuple[int, int]) -> float:
    return float(np.linalg.norm(landmarks[pair[0]] - landmarks[pair[1]]))


def mouth_opening(landmarks: Landmarks) -> float:
    """Gap between the inner lips in inter-ocular units (0: closed)."""
    return _distance(landmarks, INNER_LIPS) / inter_ocular(landmarks)


def eye_opening(landmarks: Landmarks) -> float:
    """Mean lid gap of both eyes relative to each eye's width (about 0.3 open, under 0.1 closed)."""
    ratios = [
        _distance(landmarks, lids) / _distance(landmarks, corners)
        for lids, corners in zip(EYE_LIDS, EYE_CORNERS, strict=True)
    ]
    return float(np.mean(ratios))


def aligned_landmark_error(reference: Landmarks, other: Landmarks) -> float:
    """Mean distance of all points of ``other`` from ``reference`` after the similarity that best maps
    ``other``'s rigid points onto the reference's, in the reference's inter-ocular units. Pose and scale
    cancel out; expression, and the difference of two people's face shapes, remain."""
    points = list(STABLE_INDICES)
    matrix = umeyama(other[points], reference[points])
    moved = transform_points(other[: len(reference)], matrix)
    return float(np.linalg.norm(moved - reference[: len(moved)], axis=1).mean() / inter_ocular(reference))


def correlation(x: Series, y: Series) -> float:
    """Pearson correlation over the frames where both have a value; NaN when either does not vary."""
    both = ~(np.isnan(x) | np.isnan(y))
    if both.sum() < 3 or np.std(x[both]) == 0 or np.std(y[both]) == 0:
        return float("nan")
    return float(np.corrcoef(x[both], y[both])[0, 1])


def region_change(previous: BGRFrame, frame: BGRFrame, mask: NDArray[np.bool_]) -> float:
    """Mean absolute change (grey levels) between two frames inside ``mask`` (H, W)."""
    if not mask.any():
        return float("nan")
    difference = np.abs(frame.astype(np.int16) - previous.astype(np.int16))
    return float(difference[mask].mean())


def face_detail(frame: BGRFrame, mask: NDArray[np.bool_]) -> float:
    """Fine detail inside ``mask`` (H, W): the mean |Laplacian| of the frame's grey levels there. A blurry
    face has less of it than a sharp one at the same place and size; NaN for an empty mask."""
    if not mask.any():
        return float("nan")
    return float(_abs_laplacian(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))[mask].mean())


# A whole-face crop's landmark hull covers about half of it; a trained mask covers most of that.
EMPTY_MASK = 0.05  # mean mask over the crop below this: the model paints (almost) nothing
UNCHANGED_FACE = 0.03  # mean absolute change inside the mask below this (of the 0..1 range): output ≈ input
# Fine detail (|Laplacian|) of the output over the input's, inside the mask, above this: noise, not a face.
# Measured on the export parity faces: an untrained model 7.5; trained swaps, blurry or not, 0.37-0.44.
NOISY_FACE = 2.0


def undertrained_signs(
    inputs: NDArray[np.floating], swapped: NDArray[np.floating], masks: NDArray[np.floating]
) -> list[str]:
    """What shows that a model is clearly undertrained, judged on real faces: ``inputs`` and ``swapped``
    (N, R, R, 3) in [0, 1] (the same channel order), ``masks`` (N, R, R) in [0, 1]. Empty: no sign."""
    signs = []
    coverage = float(masks.mean())
    if coverage < EMPTY_MASK:
        signs.append(f"its mask covers {coverage:.1%} of the face crop: it paints almost nothing")
    weight = masks[..., None]
    change = float((np.abs(swapped - inputs) * weight).sum() / max(float(weight.sum()) * 3, 1e-6))
    if coverage >= EMPTY_MASK and change < UNCHANGED_FACE:
        signs.append(f"its output differs from the input by {change:.1%} inside the mask: it barely swaps")
    roughness = float(np.mean([_detail(out, m) / max(_detail(inp, m), 1e-6) for out, inp, m in zip(
        swapped, inputs, masks, strict=True
    )]))  # fmt: skip
    if coverage >= EMPTY_MASK and roughness > NOISY_FACE:
        signs.append(f"its output holds {roughness:.1f}x the input's fine detail: noise, no face yet")
    return signs


def _detail(image: NDArray[np.floating], mask: NDArray[np.floating]) -> float:
    """Fine detail of an (R, R, 3) image inside a mask: the mask-weighted sum of |Laplacian| of its grey."""
    return float((_abs_laplacian(image.mean(axis=2)) * mask).sum())


def _abs_laplacian(grey: NDArray[np.generic]) -> NDArray[np.float32]:
    """|Laplacian| of a grey image, in float32: the fine detail both detail figures measure."""
    return np.abs(cv2.Laplacian(np.ascontiguousarray(grey, np.float32), cv2.CV_32F))
