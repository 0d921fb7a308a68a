"""Hands in front of the face stay in front: MediaPipe Hands finds them, and their shape is cut out of the
swap mask in crop space, so the swapped face is pasted behind them.

The swap model never learned what covers a face (its mask is the landmark hull), so without this a hand
over the mouth is painted over with the target's mouth. The mediapipe 0.10.21 wheel carries the palm
detector and hand landmark models: nothing is downloaded.
"""

from dataclasses import replace
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from stream.align import transform_points
from stream.errors import SwapcamError
from stream.lifecycle import OwnedResource
from stream.packet import FramePacket
from stream.types import Affine, BGRFrame

HandPoints = NDArray[np.float32]  # (21, 2) MediaPipe hand landmarks, frame pixels
OcclusionMask = NDArray[np.uint8]  # (R, R) crop space, 255 where something covers the face

# MediaPipe's hand skeleton: the palm polygon and each finger as a chain of joints.
PALM = (0, 1, 5, 9, 13, 17)
FINGERS = ((1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20))
FINGER_WIDTH = 0.45  # of the palm's width (index to little finger knuckle): fingers are drawn this thick


def hand_mask(hands: list[HandPoints], matrix: Affine, size: int) -> OcclusionMask:
    """The hands' silhouettes in the crop that ``matrix`` (frame → crop) cuts: palm polygon plus fingers
    as thick joint-to-joint strokes (a convex hull would also cover the gaps between spread fingers)."""
    mask = np.zeros((size, size), np.uint8)
    for points in hands:
        crop_points = transform_points(points, matrix)
        palm_width = float(np.linalg.norm(crop_points[5] - crop_points[17]))
        thickness = max(1, round(FINGER_WIDTH * palm_width))
        cv2.fillConvexPoly(mask, np.round(crop_points[list(PALM)]).astype(np.int32), (255,))
        for finger in FINGERS:
            chain = np.round(crop_points[list(finger)])
            cv2.polylines(mask, [chain.astype(np.int32)], False, (255,), thickness, cv2.LINE_AA)
            cv2.circle(mask, tuple(int(v) for v in chain[-1]), thickness // 2, (255,), -1)
    return mask


def _import_hands() -> Any:
    try:
        from mediapipe.python.solutions import hands
    except ImportError as error:
        raise SwapcamError(
            f"hand occlusion needs mediapipe 0.10.21: pip install --no-deps mediapipe==0.10.21 ({error})"
        ) from error
    return hands


class HandLandmarker(OwnedResource):
    """Owns one MediaPipe Hands graph in tracking mode (frames in order, one stream per instance); the
    lifecycle of ``stream.lifecycle``."""

    def __init__(self, max_hands: int = 2) -> None:
        self._graph: Any = _import_hands().Hands(
            static_image_mode=False, max_num_hands=max_hands, model_complexity=0, min_detection_confidence=0.5
        )
        self._closed = False

    def detect(self, frame: BGRFrame) -> list[HandPoints]:
        self._check_open()
        height, width = frame.shape[:2]
        result = self._graph.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        return [
            np.array([(p.x * width, p.y * height) for p in hand.landmark], np.float32)
            for hand in result.multi_hand_landmarks or ()
        ]

    def _release(self) -> None:
        self._graph.close()


class OcclusionStage:
    """The pipeline stage after landmarks: gives every face the mask of the hands in front of it. Owns the
    hand graph; frames must come in order."""

    def __init__(self) -> None:
        self._hands = HandLandmarker()

    def __call__(self, packet: FramePacket) -> FramePacket:
        if not packet.faces:
            return packet
        found = self._hands.detect(packet.frame)
        if not found:
            return packet
        faces = tuple(
            replace(face, occlusion=hand_mask(found, face.matrix, face.crop.shape[0]))
            if face.crop is not None
            else face
            for face in packet.faces
        )
        return replace(packet, faces=faces)

    def close(self) -> None:
        self._hands.close()


def uncovered(mask: NDArray[np.float32], occlusion: OcclusionMask | None) -> NDArray[np.float32]:
    """The swap mask with what covers the face cut out (both in crop space)."""
    if occlusion is None:
        return mask
    return mask * (1.0 - occlusion.astype(np.float32) / 255.0)
