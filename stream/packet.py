"""The one packet that travels the live pipeline, from capture to the sinks.

Stages never mutate a packet they received except for the frame pixels, which the blend stage composites
in place (the frame belongs to exactly one packet). Faces and timings are replaced, not edited.
"""

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

from stream.types import Affine, BGRCrop, BGRFrame, Landmarks

SwappedFace: TypeAlias = NDArray[np.float32]  # (R, R, 3) BGR in [0, 1], the model's output face
SwapMask: TypeAlias = NDArray[np.float32]  # (R, R) in [0, 1], the model's output mask
Span: TypeAlias = tuple[int, int]  # (start, end) of a stage's work, time.monotonic_ns()


@dataclass(frozen=True)
class Face:
    """One face of a frame: smoothed landmarks, the crop made from them and, after the swap, its result."""

    landmarks: Landmarks  # (468, 2) frame pixels, smoothed
    matrix: Affine  # frame pixels → crop pixels
    crop: BGRCrop | None  # (R, R, 3) aligned crop cut from the frame; None when the GPU cuts it
    swapped: SwappedFace | None = None
    mask: SwapMask | None = None
    occlusion: NDArray[np.uint8] | None = None  # (R, R) crop space: 255 where a hand covers the face


@dataclass(frozen=True)
class FramePacket:
    """A frame and everything the stages learned about it; ``index`` counts frames from the source."""

    index: int
    capture_ns: int  # time.monotonic_ns() when the frame was read
    frame: BGRFrame
    faces: tuple[Face, ...] = ()
    dropped: int = 0  # frames the source dropped before this one (latest-frame policy), cumulative
    spans: MappingProxyType[str, Span] = field(default_factory=lambda: MappingProxyType({}))

    def with_span(self, stage: str, span: Span, **changes: Any) -> "FramePacket":
        """A copy that records ``stage``'s work span and applies ``changes`` (e.g. ``faces=``)."""
        return replace(self, spans=MappingProxyType({**self.spans, stage: span}), **changes)
