"""The work of each live stage, one packet at a time: landmarks(+smoothing, align) → swap → blend → deliver.

Threads, hand-offs and timing belong to ``stream.pipeline``; these functions only transform packets.
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from stream.align import AlignSpec, crop_matrix, warp_crop
from stream.backends import SwapBackend
from stream.blend import paste_face
from stream.blend_options import BlendOptions
from stream.label import draw_label, draw_overlay
from stream.landmarks import FaceLandmarker
from stream.metrics import RunLog, record_of
from stream.occlusion import uncovered
from stream.packet import Face, FramePacket
from stream.quality import undertrained_signs
from stream.sinks import Sink
from stream.smoothing import OneEuroParams, Track, smooth_faces
from stream.types import Affine, BGRFrame, Landmarks

Clock = Callable[[FramePacket], float]  # the time, in seconds, a frame shows


def capture_clock(packet: FramePacket) -> float:
    """Live sources: smooth over real time."""
    return packet.capture_ns / 1e9


def video_clock(fps: float) -> Clock:
    """Files: smooth over the video's own time, so the result does not depend on processing speed."""
    return lambda packet: packet.index / fps


def face_of(frame: BGRFrame, landmarks: Landmarks, spec: AlignSpec, *, crop: bool = True) -> Face:
    """The face's alignment matrix and, unless ``crop`` is False (the GPU crops), its crop."""
    matrix = crop_matrix(landmarks, spec)
    cut = warp_crop(frame, matrix, spec.size) if crop else None
    return Face(landmarks=landmarks, matrix=matrix, crop=cut)


class LandmarkStage:
    """Owns the FaceMesh graph and the smoothing tracks; needs frames in order (one stream per instance).
    With ``crop`` False the faces carry no crop: the CUDA stage cuts them on the GPU."""

    def __init__(
        self, spec: AlignSpec, max_faces: int, smoothing: OneEuroParams, clock: Clock, *, crop: bool = True
    ) -> None:
        self._landmarker = FaceLandmarker(mode="video", max_faces=max_faces)
        self._spec, self._smoothing, self._clock, self._crop = spec, smoothing, clock, crop
        self._tracks: tuple[Track, ...] = ()

    def __call__(self, packet: FramePacket) -> FramePacket:
        detected = self._landmarker.detect(packet.frame)
        self._tracks, smoothed = smooth_faces(
            self._tracks,
            [(face.box, face.landmarks) for face in detected],
            self._clock(packet),
            self._smoothing,
        )
        faces = tuple(face_of(packet.frame, points, self._spec, crop=self._crop) for points in smoothed)
        return replace(packet, faces=faces)

    def close(self) -> None:
        self._landmarker.close()


SwapWatch = Callable[[np.ndarray, np.ndarray, np.ndarray], None]  # (crops, swapped faces, masks)


def watch_first_faces(warn: Callable[[str], None], count: int = 30) -> SwapWatch:
    """Looks at the first ``count`` swapped faces once and warns when the model is clearly undertrained."""
    seen: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def watch(crops: np.ndarray, swapped: np.ndarray, masks: np.ndarray) -> None:
        if len(seen) >= count:
            return
        # copies: a backend may hand out views of buffers it reuses for the next batch
        seen.extend((c.copy(), f.copy(), m.copy()) for c, f, m in zip(crops, swapped, masks, strict=True))
        if len(seen) >= count:
            inputs, faces, maps = (np.stack(part) for part in zip(*seen, strict=True))
            for sign in undertrained_signs(inputs / 255.0, faces, maps):
                warn(
                    f"warning: the model looks undertrained: {sign} (train longer; `swapcam eval` judges it)"
                )

    return watch


def swap_stage(
    backend: SwapBackend, watch: SwapWatch | None = None, enabled: Callable[[], bool] = lambda: True
) -> Callable[[FramePacket], FramePacket]:
    """All faces of a frame in one batched call; ``watch`` sees every batch (crops, faces, masks). While
    ``enabled()`` is false (swap toggled off) faces pass unswapped, so nothing is pasted."""

    def swap(packet: FramePacket) -> FramePacket:
        if not packet.faces or not enabled():
            return packet
        crops = [face.crop for face in packet.faces if face.crop is not None]
        if len(crops) != len(packet.faces):
            raise ValueError("the swap stage needs the faces' crops: the landmark stage was told not to crop")
        batch = np.stack(crops)
        swapped, masks = backend.swap(batch)
        if watch is not None:
            watch(batch, swapped, masks)
        faces = tuple(
            replace(face, swapped=image, mask=mask)
            for face, image, mask in zip(packet.faces, swapped, masks, strict=True)
        )
        return replace(packet, faces=faces)

    return swap


def blend_stage(
    options: Callable[[], BlendOptions], label: bool, overlay: Callable[[], Sequence[str]]
) -> Callable[[FramePacket], FramePacket]:
    """Paste every swapped face into the frame in place with the ``options()`` of the moment (live
    controls change them), then the disclosure label and the ``overlay()`` lines."""

    def blend(packet: FramePacket) -> FramePacket:
        now = options()
        for face in packet.faces:
            if face.swapped is not None and face.mask is not None and face.crop is not None:
                mask = uncovered(face.mask, face.occlusion)
                paste_face(packet.frame, face.swapped, mask, face.crop, face.matrix, now)
        return _annotate(packet, label, overlay)

    return blend


def cuda_stage(
    swapper: Callable[[BGRFrame, Sequence[Affine]], None],
    label: bool,
    overlay: Callable[[], Sequence[str]],
    enabled: Callable[[], bool] = lambda: True,
) -> Callable[[FramePacket], FramePacket]:
    """Crop, swap and paste back every face on the GPU (``stream.gpu.swapper``) while ``enabled()``, then
    label and overlay."""

    def swap_on_gpu(packet: FramePacket) -> FramePacket:
        if packet.faces and enabled():
            swapper(packet.frame, [face.matrix for face in packet.faces])
        return _annotate(packet, label, overlay)

    return swap_on_gpu


def _annotate(packet: FramePacket, label: bool, overlay: Callable[[], Sequence[str]]) -> FramePacket:
    draw_overlay(packet.frame, overlay())
    if label:
        draw_label(packet.frame)
    return packet


def deliver_to(
    sinks: Sequence[Sink], log: RunLog, on_delivered: Callable[[], None]
) -> Callable[[FramePacket], None]:
    """Send the frame to every sink, then record its timings."""

    def deliver(packet: FramePacket) -> None:
        for sink in sinks:
            sink.send(packet.frame)
        log.add(record_of(packet, time.monotonic_ns()))
        on_delivered()

    return deliver
