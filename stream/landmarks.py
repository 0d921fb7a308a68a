"""MediaPipe FaceMesh behind a small resource-owning class.

The mediapipe wheel (0.10.21) carries the face detector and mesh models, so nothing is downloaded.
"""

from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np

from stream.errors import SwapcamError
from stream.lifecycle import OwnedResource
from stream.types import BGRFrame, Box, Landmarks

MESH_POINTS = 468
MESH_POINTS_WITH_IRIS = 478

Mode = Literal["video", "image"]


@dataclass(frozen=True)
class DetectedFace:
    """One face: FaceMesh landmarks in frame pixels and their bounding box."""

    landmarks: Landmarks  # (468 or 478, 2) float32
    box: Box

    @property
    def area(self) -> float:
        return float((self.box[2] - self.box[0]) * (self.box[3] - self.box[1]))


def _import_face_mesh() -> Any:
    try:
        from mediapipe.python.solutions import face_mesh
    except ImportError as error:
        raise SwapcamError(
            "face landmarks need mediapipe 0.10.21 (the last release with FaceMesh models in its wheel): "
            f"pip install --no-deps mediapipe==0.10.21 ({error})"
        ) from error
    return face_mesh


class FaceLandmarker(OwnedResource):
    """Owns one MediaPipe FaceMesh graph (``stream.lifecycle``: a context manager, closed once, an error to
    use after closing).

    ``mode="video"`` tracks faces from frame to frame (frames must come in order, one stream per
    instance); ``mode="image"`` detects afresh in every image. Faces come back largest first.
    """

    def __init__(
        self,
        mode: Mode = "video",
        max_faces: int = 1,
        refine_iris: bool = False,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
    ) -> None:
        if mode not in ("video", "image"):
            raise ValueError(f"mode must be 'video' or 'image', got {mode!r}")
        if max_faces < 1:
            raise ValueError(f"max_faces must be >= 1, got {max_faces}")
        self.mode, self.max_faces = mode, max_faces
        self.points = MESH_POINTS_WITH_IRIS if refine_iris else MESH_POINTS
        self._graph: Any = _import_face_mesh().FaceMesh(
            static_image_mode=mode == "image",
            max_num_faces=max_faces,
            refine_landmarks=refine_iris,
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )
        self._closed = False

    def detect(self, frame: BGRFrame) -> list[DetectedFace]:
        """Landmarks of up to ``max_faces`` faces in a BGR frame, largest face first."""
        self._check_open()
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"expected a (H, W, 3) uint8 BGR frame, got {frame.shape} {frame.dtype}")
        height, width = frame.shape[:2]
        result = self._graph.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        faces = [
            _to_face(face.landmark, width, height, self.points) for face in result.multi_face_landmarks or ()
        ]
        return sorted(faces, key=lambda face: face.area, reverse=True)

    def _release(self) -> None:
        self._graph.close()
        self._graph = None


def _to_face(normalized: Any, width: int, height: int, points: int) -> DetectedFace:
    landmarks = np.array([(p.x * width, p.y * height) for p in normalized], np.float32)[:points]
    box = np.concatenate([landmarks.min(axis=0), landmarks.max(axis=0)]).astype(np.float32)
    return DetectedFace(landmarks=landmarks, box=box)
