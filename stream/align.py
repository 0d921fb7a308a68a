"""Face alignment: similarity transforms between frame pixels and aligned face crops.

Training, export and the live pipeline all crop faces with these functions, so a model only ever sees
crops made the way it was trained.

Template ``swapcam-fm2d-v1``: the mean 2-D FaceMesh shape of real faces at the landmarks of the rigid
parts of the face (eye corners, nose bridge and tip, nostril wings, mouth corners, jaw contour between ear
and jaw angle), left-right symmetric, in the frame and units (cm, x right, y down, nose bridge on x = 0) of
the front view of MediaPipe's canonical face mesh. ``stream.template_fit`` holds the derivation and a test
re-derives these numbers from the sample footage. Lips, eyelids and brows move with expression and the chin
drops when the mouth opens, so none of them steer the alignment. A face type is a square region of template
space; ``coverage`` scales the region (1.2 = 20% more context around it).

A named alignment bundles a template (its id is recorded in face sets and model metadata), its face types
and its coverage range, all data. ``swapcam`` is ours; ``dflive`` is DeepFaceLive's (``stream.align_dflive``),
which ``.dfm`` models from DeepFaceLab and DeepFaceLive expect.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import cv2
import numpy as np

from stream import align_dflive
from stream.types import Affine, BGRCrop, BGRFrame, Landmarks, Mask, Points

ALIGN_TEMPLATE = "swapcam-fm2d-v1"

# FaceMesh landmark index → template position (x, y) in cm.
_TEMPLATE_CM = MappingProxyType(
    {
        33: (-4.974, -2.742),
        133: (-1.957, -2.642),
        362: (1.957, -2.642),
        263: (4.974, -2.742),
        168: (0.000, -3.509),
        6: (0.000, -2.633),
        197: (0.000, -1.860),
        195: (0.000, -1.159),
        5: (0.000, -0.400),
        4: (0.000, 0.561),
        1: (0.000, 1.332),
        98: (-2.054, 1.778),
        327: (2.054, 1.778),
        61: (-3.347, 4.236),
        291: (3.347, 4.236),
        234: (-7.308, -0.415),
        93: (-7.223, 1.201),
        132: (-7.009, 2.919),
        58: (-6.538, 4.710),
        454: (7.308, -0.415),
        323: (7.223, 1.201),
        361: (7.009, 2.919),
        288: (6.538, 4.710),
    }
)
STABLE_INDICES: tuple[int, ...] = tuple(_TEMPLATE_CM)

# Mean eye centres (corner and lid points of each eye) in template space, fitted with the template: tests
# and previews use them to check that crops are centred and upright.
EYE_CENTRES_CM: tuple[tuple[float, float], ...] = ((-3.468, -2.702), (3.468, -2.702))
RIGHT_EYE_INDICES = (33, 133, 159, 145)  # subject's right eye, left in the image
LEFT_EYE_INDICES = (362, 263, 386, 374)


@dataclass(frozen=True)
class AlignedFace:
    """One face cut out of a frame: the crop, the matrix that made it and its landmarks in crop pixels."""

    crop: BGRCrop
    matrix: Affine  # frame pixels → crop pixels
    landmarks: Points  # (N, 2) in crop pixels


@dataclass(frozen=True)
class FaceRegion:
    """A square of template space that a face type crops: its centre and half its side, in template units
    (cm for ``swapcam``, unit-square sides for ``dflive``)."""

    centre: tuple[float, float]
    half_side: float


@dataclass(frozen=True)
class Alignment:
    """A named way of cropping faces: where chosen FaceMesh landmarks belong, which squares of that space a
    face type covers, and the coverage range (minimum, default, maximum)."""

    template: str
    points: Mapping[int, tuple[float, float]]  # FaceMesh index → template position
    face_types: Mapping[str, FaceRegion]
    coverage: tuple[float, float, float]


SWAPCAM = Alignment(
    template=ALIGN_TEMPLATE,
    points=_TEMPLATE_CM,
    face_types=MappingProxyType(
        {
            # brows to just above the chin tip, cheek to cheek: the inner face a classic swap model replaces
            "face": FaceRegion(centre=(0.0, 1.0), half_side=7.5),
            # forehead to below the chin, ear to ear
            "whole_face": FaceRegion(centre=(0.0, 0.4), half_side=9.5),
        }
    ),
    coverage=(0.5, 1.0, 2.0),
)
DFLIVE = Alignment(
    template=align_dflive.TEMPLATE_ID,
    points=align_dflive.UNIT_POINTS,
    # DeepFaceLive's cut: coverage is the side in unit-square sides, so the region at coverage 1 is the
    # unit square itself, moved by the aligner's fixed vertical offset
    face_types=MappingProxyType(
        {"whole_face": FaceRegion(centre=(0.5, 0.5 + align_dflive.Y_OFFSET), half_side=0.5)}
    ),
    coverage=(align_dflive.COVERAGE_RANGE[0], align_dflive.DEFAULT_COVERAGE, align_dflive.COVERAGE_RANGE[1]),
)
ALIGNMENTS = MappingProxyType({"swapcam": SWAPCAM, "dflive": DFLIVE})  # by the name users type
_BY_TEMPLATE = MappingProxyType({alignment.template: alignment for alignment in ALIGNMENTS.values()})

MIN_SIZE, MAX_SIZE = 64, 640  # 640: the largest DeepFaceLab trains (its .dfm models)


def alignment_of(template: str) -> Alignment:
    """The alignment a template id names; ``ValueError`` for one this swapcam does not know."""
    if template not in _BY_TEMPLATE:
        raise ValueError(f"alignment template must be one of {sorted(_BY_TEMPLATE)}, got {template!r}")
    return _BY_TEMPLATE[template]


@dataclass(frozen=True)
class AlignSpec:
    """How faces are cropped: face type, crop side in pixels, coverage and alignment template. Invalid
    values are rejected."""

    face_type: str = "whole_face"
    size: int = 256
    coverage: float = 1.0
    template: str = ALIGN_TEMPLATE

    def __post_init__(self) -> None:
        alignment = alignment_of(self.template)
        if self.face_type not in alignment.face_types:
            raise ValueError(
                f"face type must be one of {sorted(alignment.face_types)} with template {self.template}, "
                f"got {self.face_type!r}"
            )
        if not MIN_SIZE <= self.size <= MAX_SIZE:
            raise ValueError(f"crop size must be {MIN_SIZE}..{MAX_SIZE} pixels, got {self.size}")
        low, _, high = alignment.coverage
        if not low <= self.coverage <= high:
            raise ValueError(
                f"coverage must be {low:g}..{high:g} with template {self.template}, got {self.coverage}"
            )

    @property
    def alignment(self) -> Alignment:
        return alignment_of(self.template)

    def __str__(self) -> str:
        named = "" if self.template == ALIGN_TEMPLATE else f", template {self.template}"
        return f"{self.face_type} {self.size}px coverage {self.coverage:g}{named}"

    def record(self) -> dict[str, str | float]:
        """How the faces were cut, without the crop size (a model's resolution may differ from the faces'):
        the record extract sets, checkpoints and model metadata keep (``alignment_record``)."""
        return {"face_type": self.face_type, "coverage": self.coverage, "template": self.template}


ALIGNMENT_KEYS = ("face_type", "coverage", "template")
FORMER_KEYS = MappingProxyType({"align_template": "template"})  # names in files written before the rename


def alignment_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """``record`` with the alignment keys under their current names (files written before the template id
    was called ``template`` everywhere name it ``align_template``); other keys are kept as they are."""
    renamed = {FORMER_KEYS.get(key, key): value for key, value in record.items()}
    return {**renamed, **{key: value for key, value in record.items() if key in ALIGNMENT_KEYS}}


def template_to_crop(points: Points, spec: AlignSpec) -> Points:
    """Map template-space points to crop pixels for ``spec``."""
    region = spec.alignment.face_types[spec.face_type]
    pixels_per_unit = spec.size / (2.0 * region.half_side * spec.coverage)
    return (np.asarray(points, np.float64) - region.centre) * pixels_per_unit + spec.size / 2.0


def template_points(spec: AlignSpec) -> Points:
    """(K, 2) where the template's landmarks (in the order of its ``points``) land in a crop made with
    ``spec``."""
    return template_to_crop(np.array(list(spec.alignment.points.values())), spec)


def umeyama(src: Points | Landmarks, dst: Points | Landmarks) -> Affine:
    """Least-squares similarity transform (rotation, uniform scale, translation) taking src onto dst.

    Umeyama, "Least-squares estimation of transformation parameters between two point patterns",
    IEEE TPAMI 13(4), 1991. Reflections are excluded.
    """
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2 or len(src) < 2:
        raise ValueError(f"expected two (K>=2, 2) point sets of equal shape, got {src.shape} and {dst.shape}")
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    covariance = dst_c.T @ src_c / len(src)
    u, singular, vt = np.linalg.svd(covariance)
    signs = np.array([1.0, np.sign(np.linalg.det(u) * np.linalg.det(vt)) or 1.0])
    rotation = u @ np.diag(signs) @ vt
    src_variance = (src_c**2).sum() / len(src)
    if src_variance == 0.0:
        raise ValueError("source points are all identical: no transform is defined")
    scale = float((singular * signs).sum() / src_variance)
    translation = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, translation[:, None]])


def crop_matrix(landmarks: Landmarks, spec: AlignSpec) -> Affine:
    """Affine taking frame pixels to crop pixels, fitted on the template's FaceMesh landmarks."""
    indices = list(spec.alignment.points)
    if landmarks.ndim != 2 or landmarks.shape[0] <= max(indices) or landmarks.shape[1] != 2:
        raise ValueError(f"expected FaceMesh landmarks of shape (468 or 478, 2), got {landmarks.shape}")
    return umeyama(landmarks[indices], template_points(spec))


def invert_affine(matrix: Affine) -> Affine:
    """Inverse of a (2, 3) affine: crop pixels back to frame pixels for paste-back."""
    linear_inv = np.linalg.inv(matrix[:, :2])
    return np.hstack([linear_inv, -(linear_inv @ matrix[:, 2])[:, None]])


def transform_points(points: Points | Landmarks, matrix: Affine) -> Points:
    """Apply a (2, 3) affine to (N, 2) points."""
    return np.asarray(points, np.float64) @ matrix[:, :2].T + matrix[:, 2]


def matrix_scale(matrix: Affine) -> float:
    """Uniform scale factor of a similarity transform."""
    return float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))


def face_size_in_frame(matrix: Affine, spec: AlignSpec) -> float:
    """Side in frame pixels of the square the crop covers: how large the face is in the source."""
    return spec.size / matrix_scale(matrix)


def warp_crop(frame: BGRFrame, matrix: Affine, size: int) -> BGRCrop:
    """Cut the aligned (size, size) crop out of a frame; outside the frame, edge pixels are repeated."""
    crop = cv2.warpAffine(
        frame, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return np.asarray(crop, np.uint8)  # the frame's dtype


def align_face(frame: BGRFrame, landmarks: Landmarks, spec: AlignSpec) -> AlignedFace:
    """Crop one face of ``frame`` as ``spec`` says."""
    matrix = crop_matrix(landmarks, spec)
    return AlignedFace(
        crop=warp_crop(frame, matrix, spec.size), matrix=matrix, landmarks=transform_points(landmarks, matrix)
    )


def hull_mask(points_crop: Points, size: int) -> Mask:
    """(size, size) uint8 mask, 255 inside the convex hull of the crop-space landmarks."""
    mask = np.zeros((size, size), np.uint8)
    hull = cv2.convexHull(np.round(points_crop).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, (255,))
    return mask


def eye_centres(landmarks: Landmarks) -> Points:
    """(2, 2) image-left and image-right eye centres from FaceMesh landmarks."""
    return np.stack([landmarks[list(RIGHT_EYE_INDICES)].mean(0), landmarks[list(LEFT_EYE_INDICES)].mean(0)])
