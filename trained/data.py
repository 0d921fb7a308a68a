"""Training data: the faces of one identity, read from a `swapcam extract` folder and kept in memory."""

from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from stream.align import AlignSpec
from stream.errors import SwapcamError
from stream.faceset import FACES_DIR, MASKS_DIR, FaceRecord, read_faceset

# FaceMesh contours of the regions a swap is judged by: both eyes and the outer lips.
EYE_CONTOURS = (
    (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246),
    (362, 382, 381, 380, 374, 373, 390, 249, 263, 466, 388, 387, 386, 385, 384, 398),
)
OUTER_LIPS = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)


@dataclass(frozen=True)
class FaceData:
    """One identity's aligned faces at the model resolution, RGB."""

    label: str
    spec: AlignSpec  # how the faces were cropped (size is the extract size, not the model's)
    faces: NDArray[np.uint8]  # (N, R, R, 3) RGB
    masks: NDArray[np.uint8]  # (N, R, R) face hull, 0..255
    regions: NDArray[np.uint8]  # (N, R, R) eyes and mouth, 0..255
    names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.faces)


def region_mask(landmarks_crop: NDArray[np.float32], size: int) -> NDArray[np.uint8]:
    """Eyes and mouth, filled and slightly dilated, as a (size, size) 0/255 mask."""
    mask = np.zeros((size, size), np.uint8)
    for contour in (*EYE_CONTOURS, OUTER_LIPS):
        cv2.fillConvexPoly(
            mask, cv2.convexHull(np.round(landmarks_crop[list(contour)]).astype(np.int32)), (255,)
        )
    grow = max(1, size // 32)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
    return np.asarray(cv2.dilate(mask, kernel), np.uint8)  # the mask's dtype


def _load_record(
    folder: Path, record: FaceRecord, resolution: int, extract_size: int
) -> tuple[np.ndarray, ...]:
    face = cv2.imread(str(folder / FACES_DIR / record.name), cv2.IMREAD_COLOR)
    mask = cv2.imread(str(folder / MASKS_DIR / record.name), cv2.IMREAD_GRAYSCALE)
    if face is None or mask is None:
        raise SwapcamError(f"{folder}: {record.name} is listed in the index but missing or unreadable")
    interpolation = cv2.INTER_AREA if resolution < extract_size else cv2.INTER_LINEAR
    face = cv2.cvtColor(
        cv2.resize(face, (resolution, resolution), interpolation=interpolation), cv2.COLOR_BGR2RGB
    )
    mask = cv2.resize(mask, (resolution, resolution), interpolation=cv2.INTER_LINEAR)
    regions = region_mask(record.landmarks_crop * (resolution / extract_size), resolution)
    return face, mask, regions


def load_faces(folder: Path, resolution: int, label: str | None = None) -> FaceData:
    """Read every face of an extract folder, resized to ``resolution``."""
    if not folder.is_dir():
        raise SwapcamError(f"no such folder: {folder} (expected a `swapcam extract` output folder)")
    faceset = read_faceset(folder)
    if not faceset.records:
        raise SwapcamError(f"{folder} holds no faces: extract some first")
    loaded = [_load_record(folder, r, resolution, faceset.spec.size) for r in faceset.records]
    faces, masks, regions = (np.stack(column) for column in zip(*loaded, strict=True))
    return FaceData(
        label=label or folder.resolve().name,
        spec=faceset.spec,
        faces=faces,
        masks=masks,
        regions=regions,
        names=tuple(r.name for r in faceset.records),
    )


def check_compatible(a: FaceData, b: FaceData) -> None:
    """A and B must be cropped the same way (face type, coverage, template) for a swap to line up."""
    if a.spec.record() != b.spec.record():
        raise SwapcamError(
            f"A and B were extracted differently: A is {a.spec} with template {a.spec.template}, "
            f"B is {b.spec} with template {b.spec.template}: "
            "extract both with the same --align, --face-type and --coverage"
        )


def split_holdout(data: FaceData, fraction: float) -> tuple[FaceData, FaceData]:
    """(train, held-out): the last ``fraction`` of the faces in extraction order, e.g. the end of a clip."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"holdout fraction must be in [0, 1), got {fraction}")
    cut = len(data) - round(len(data) * fraction)
    if cut < 1:
        raise SwapcamError(f"{data.label}: {len(data)} faces are too few to hold out {fraction:.0%}")

    return subset(data, slice(0, cut)), subset(data, slice(cut, None))


def subset(data: FaceData, rows: slice | NDArray[np.integer]) -> FaceData:
    """The faces of ``data`` at ``rows``, with their masks, regions and names (a slice keeps views)."""
    names = data.names[rows] if isinstance(rows, slice) else tuple(data.names[row] for row in rows)
    return replace(
        data, faces=data.faces[rows], masks=data.masks[rows], regions=data.regions[rows], names=names
    )
