"""The sequential baseline: one thread doing capture → landmarks → align → infer → paste-back per frame.

This is how most face-swap tools run: nothing overlaps, and the paste-back warps the swapped face and its
mask to the full frame and blends the whole frame in floating point. Same model, landmarks and alignment
as the pipeline; ONNX Runtime gets every core, since inference is the only parallel part here. The blend
does less than the pipeline's (no mask erode or feather, no colour transfer), which favours the baseline.
Paced runs stamp each frame's capture at the moment the simulated camera makes it available, without
decoding (frames are decoded up front); the pipeline's stamp comes after decoding, which favours the
baseline slightly too. Timings are ``stream.metrics.FrameRecord``s, so the report reads both the same way.
"""

import time
from pathlib import Path
from types import MappingProxyType

import cv2
import numpy as np

from bench.inputs import crop_of
from stream.align import invert_affine
from stream.backends import ONNX_SUFFIXES, SwapBackend, choose_backend, open_backend
from stream.capture import VideoFileSource
from stream.label import draw_label
from stream.landmarks import FaceLandmarker
from stream.live import warm_backend
from stream.metrics import FrameRecord, RunFigures, summarise, timeline
from stream.packet import Face, Span
from stream.stages import face_of
from stream.threads import usable_cores
from stream.types import BGRFrame


def open_sequential_backend(model: Path) -> SwapBackend:
    choice = choose_backend(model)
    options = {"threads": usable_cores()} if model.suffix in ONNX_SUFFIXES else {}
    return open_backend(model, choice, lambda message: None, **options)


def paste_full_frame(frame: BGRFrame, face: Face, swapped: np.ndarray, mask: np.ndarray) -> BGRFrame:
    """The usual paste-back: warp face and mask to the whole frame, blend every pixel in float."""
    height, width = frame.shape[:2]
    inverse = invert_affine(face.matrix)
    face_full = cv2.warpAffine(swapped, inverse, (width, height), flags=cv2.INTER_LINEAR)
    alpha = cv2.warpAffine(mask, inverse, (width, height), flags=cv2.INTER_LINEAR)[..., None]
    blended = frame.astype(np.float32) * (1.0 - alpha) + face_full * 255.0 * alpha
    return np.clip(blended + 0.5, 0, 255).astype(np.uint8)


class SequentialSwap:
    """Owns the landmark graph and the backend of the single-thread loop."""

    def __init__(self, model: Path) -> None:
        self.backend = open_sequential_backend(model)
        warm_backend(self.backend, 1)  # one face per frame: its FaceLandmarker looks for one
        self.landmarker = FaceLandmarker(mode="video")

    def process(self, frame: BGRFrame) -> tuple[BGRFrame, int, dict[str, Span]]:
        """(output frame, faces, stage spans) for one frame."""
        spans: dict[str, Span] = {}
        start = time.monotonic_ns()
        detected = self.landmarker.detect(frame)
        spans["landmarks"] = (start, start := time.monotonic_ns())
        faces = [face_of(frame, face.landmarks, self.backend.info.align_spec) for face in detected]
        spans["align"] = (start, start := time.monotonic_ns())
        if faces:
            swapped, masks = self.backend.swap(np.stack([crop_of(face) for face in faces]))
            spans["swap"] = (start, start := time.monotonic_ns())
            for face, image, mask in zip(faces, swapped, masks, strict=True):
                frame = paste_full_frame(frame, face, image, mask)
        draw_label(frame)
        spans["blend"] = (start, time.monotonic_ns())
        return frame, len(faces), spans

    def close(self) -> None:
        self.landmarker.close()
        self.backend.close()

    def __enter__(self) -> "SequentialSwap":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def run_fast(clip: Path, model: Path, frames: int) -> tuple[RunFigures, list[list[float]]]:
    """Every frame of the file, one after the other, as fast as possible."""
    records = []
    with VideoFileSource(clip) as video, SequentialSwap(model) as swap:
        for index in range(frames):
            start = time.monotonic_ns()
            frame = video.read()
            if frame is None:
                break
            captured = time.monotonic_ns()
            _, faces, spans = swap.process(frame)
            spans = {"read": (start, captured), **spans}
            records.append(
                FrameRecord(index, captured, time.monotonic_ns(), faces, 0, MappingProxyType(spans))
            )
    return summarise(records, len(records), 0), timeline(records)


def run_paced(clip: Path, model: Path, frames: int, fps: float) -> tuple[RunFigures, list[list[float]]]:
    """A camera at ``fps``: frame i exists from t0 + i/fps; the loop always takes the newest frame."""
    with VideoFileSource(clip) as video:
        decoded = [frame for _ in range(frames) if (frame := video.read()) is not None]
    records, dropped, last = [], 0, -1
    with SequentialSwap(model) as swap:
        t0 = time.monotonic_ns()
        while last + 1 < len(decoded):
            due = t0 + int((last + 1) * 1e9 / fps)
            time.sleep(max(0.0, (due - time.monotonic_ns()) / 1e9))
            newest = min(len(decoded) - 1, max(last + 1, int((time.monotonic_ns() - t0) * fps / 1e9)))
            dropped += newest - last - 1
            last = newest
            shown = t0 + int(newest * 1e9 / fps)
            _, faces, spans = swap.process(decoded[newest].copy())
            record = FrameRecord(newest, shown, time.monotonic_ns(), faces, dropped, MappingProxyType(spans))
            records.append(record)
    return summarise(records, len(decoded), dropped), timeline(records)
