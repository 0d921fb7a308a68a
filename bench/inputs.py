"""Real inputs for the benchmarks: frames of the sample clip and the aligned faces in them."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stream.align import AlignSpec
from stream.capture import VideoFileSource
from stream.errors import SwapcamError
from stream.landmarks import FaceLandmarker
from stream.packet import Face
from stream.stages import face_of
from stream.types import BGRCrop, BGRFrame


@dataclass(frozen=True)
class Inputs:
    frames: tuple[BGRFrame, ...]  # frames with a face
    faces: tuple[Face, ...]  # the largest face of each frame, cropped for the model

    def crops(self, start: int, batch: int) -> np.ndarray:
        """(batch, R, R, 3) crops starting at ``start``, rotating through the clip's faces."""
        return np.stack([crop_of(self.faces[(start + k) % len(self.faces)]) for k in range(batch)])


def crop_of(face: Face) -> BGRCrop:
    """The crop of a face cut on the CPU (``face_of`` with ``crop``, as the benchmarks cut every face)."""
    if face.crop is None:
        raise SwapcamError("expected a face with its crop cut on the CPU, got one without a crop")
    return face.crop


def load_inputs(clip: Path, spec: AlignSpec, count: int) -> Inputs:
    """The first ``count`` frames of ``clip`` in which FaceMesh finds a face, and those faces."""
    frames: list[BGRFrame] = []
    faces: list[Face] = []
    with VideoFileSource(clip) as video, FaceLandmarker(mode="video") as landmarker:
        while len(frames) < count and (frame := video.read()) is not None:
            detected = landmarker.detect(frame)
            if detected:
                frames.append(frame)
                faces.append(face_of(frame, detected[0].landmarks, spec))
    if not frames:
        raise SwapcamError(
            f"{clip}: expected frames with a face to benchmark on, found none in {count} frames"
        )
    return Inputs(tuple(frames), tuple(faces))
