"""Parity checks on real aligned faces: the sample clips cropped exactly as the model expects."""

from dataclasses import dataclass

import cv2
import numpy as np
import onnxruntime as ort
import torch
from numpy.typing import NDArray

from stream.align import AlignSpec, align_face
from stream.contract import INPUT_NAME, OUTPUT_NAMES
from stream.landmarks import FaceLandmarker
from stream.media import read_video, video_frame_count
from stream.samples import sample_clips

TOLERANCE = {"fp32": 1e-4, "fp16": 2e-2}  # max abs error per output, values in [0, 1]


@dataclass(frozen=True)
class OutputError:
    max_abs: float
    mean_abs: float


@dataclass(frozen=True)
class Parity:
    faces: int
    tolerance: float
    errors: dict[str, OutputError]

    @property
    def passed(self) -> bool:
        return all(error.max_abs <= self.tolerance for error in self.errors.values())

    def describe(self) -> str:
        parts = [f"{name} max {e.max_abs:.2e} mean {e.mean_abs:.2e}" for name, e in self.errors.items()]
        verdict = "ok" if self.passed else "FAILED"
        return (
            f"parity on {self.faces} real faces (tolerance {self.tolerance:g}): {'; '.join(parts)}: {verdict}"
        )


def sample_faces(spec: AlignSpec, per_clip: int = 8) -> NDArray[np.float32]:
    """(N, 3, R, R) RGB float32 in [0, 1]: faces spread over both sample clips, aligned with ``spec``."""
    crops = []
    with FaceLandmarker("image") as landmarker:
        for clip in sample_clips().values():
            wanted = set(np.linspace(0, video_frame_count(clip) - 1, per_clip).astype(int).tolist())
            for index, frame in read_video(clip):
                faces = landmarker.detect(frame) if index in wanted else []
                if faces:
                    crop = align_face(frame, faces[0].landmarks, spec).crop
                    crops.append(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB))
    return np.stack(crops).transpose(0, 3, 1, 2).astype(np.float32) / 255.0


def torch_outputs(module: torch.nn.Module, faces: NDArray[np.float32]) -> dict[str, np.ndarray]:
    with torch.no_grad():
        swapped, mask = module(torch.from_numpy(faces))
    return {"swapped": swapped.float().numpy(), "mask": mask.float().numpy()}


def onnx_outputs(model: bytes | str, faces: NDArray[np.float32], input_dtype: type) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    results = session.run(list(OUTPUT_NAMES), {INPUT_NAME: faces.astype(input_dtype)})
    return {name: np.asarray(value, np.float32) for name, value in zip(OUTPUT_NAMES, results, strict=True)}


def compare(reference: dict[str, np.ndarray], candidate: dict[str, np.ndarray], precision: str) -> Parity:
    errors = {
        name: OutputError(
            float(np.abs(candidate[name] - ref).max()), float(np.abs(candidate[name] - ref).mean())
        )
        for name, ref in reference.items()
    }
    return Parity(faces=len(next(iter(reference.values()))), tolerance=TOLERANCE[precision], errors=errors)
