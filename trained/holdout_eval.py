"""`swapcam eval`'s figures on a run's held-out faces, for the end of `swapcam train`: who A's unseen faces
become when swapped (by the independent recogniser of ``stream.recognise``) and whether the mouth follows.

Crops are small (the model's resolution), so they are enlarged before FaceMesh and the recogniser see them.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from stream.landmarks import FaceLandmarker
from stream.quality import aligned_landmark_error, correlation, mouth_opening
from stream.recognise import FaceRecogniser, centroid, distances
from trained.data import FaceData
from trained.model import SwapAutoencoder
from trained.preview import swap_faces

LOOK_SIZE = 256  # pixels the crops are enlarged to before landmarks and recognition


@dataclass(frozen=True)
class HoldoutFigures:
    faces: int
    faces_lost: int  # held-out faces whose swap has no face FaceMesh can find
    closer_to_b_fraction: float
    median_distance_b: float
    mouth_correlation: float
    landmark_error: float

    def describe(self) -> str:
        return (
            f"held-out A→B ({self.faces} faces, judged by dlib): closer to B than to A in "
            f"{self.closer_to_b_fraction:.0%}, median distance to B {self.median_distance_b:.3f} "
            f"(under 0.6: the same person to dlib), mouth-opening correlation {self.mouth_correlation:.2f}, "
            f"landmark error {self.landmark_error:.3f}, faces lost {self.faces_lost}"
        )


def _looked_at(
    crops_rgb: np.ndarray, landmarker: FaceLandmarker, recogniser: FaceRecogniser
) -> list[tuple[np.ndarray, np.ndarray] | None]:
    """(landmarks, descriptor) of each crop, None where FaceMesh finds no face."""
    found: list[tuple[np.ndarray, np.ndarray] | None] = []
    for crop in crops_rgb:
        image = cv2.cvtColor(
            cv2.resize(crop, (LOOK_SIZE, LOOK_SIZE), interpolation=cv2.INTER_CUBIC), cv2.COLOR_RGB2BGR
        )
        faces = landmarker.detect(image)
        found.append((faces[0].landmarks, recogniser.describe(image, faces[0].landmarks)) if faces else None)
    return found


def holdout_figures(model: SwapAutoencoder, held_a: FaceData, faces_b: FaceData) -> HoldoutFigures | None:
    """The figures for A's held-out faces swapped into B; None when there are none to judge."""
    if len(held_a) == 0:
        return None
    swapped = swap_faces(model, held_a.faces, "b")
    with FaceRecogniser() as recogniser, FaceLandmarker("image") as landmarker:
        inputs = _looked_at(held_a.faces, landmarker, recogniser)
        outputs = _looked_at(swapped, landmarker, recogniser)
        references_b = [seen for seen in _looked_at(faces_b.faces, landmarker, recogniser) if seen]
    pairs = [(i, o) for i, o in zip(inputs, outputs, strict=True) if i is not None and o is not None]
    if not pairs or not references_b:
        return HoldoutFigures(len(held_a), len(held_a), 0.0, float("nan"), float("nan"), float("nan"))
    a = centroid(np.array([i[1] for i in inputs if i is not None]))
    b = centroid(np.array([descriptor for _, descriptor in references_b]))
    described = np.array([o[1] for _, o in pairs])
    to_a, to_b = distances(described, a), distances(described, b)
    mouths = np.array([(mouth_opening(i[0]), mouth_opening(o[0])) for i, o in pairs])
    return HoldoutFigures(
        faces=len(held_a),
        faces_lost=sum(i is not None and o is None for i, o in zip(inputs, outputs, strict=True)),
        closer_to_b_fraction=float((to_b < to_a).mean()),
        median_distance_b=float(np.median(to_b)),
        mouth_correlation=correlation(mouths[:, 0], mouths[:, 1]),
        landmark_error=float(np.median([aligned_landmark_error(i[0], o[0]) for i, o in pairs])),
    )
