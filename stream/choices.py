"""The named choices that cross modules, in one place and free of heavy imports (the command line reads
them for --help without loading numpy)."""

from typing import Literal, TypeAlias

Direction: TypeAlias = Literal["a2b", "b2a"]
DIRECTIONS: tuple[Direction, ...] = ("a2b", "b2a")  # a2b: A's face in, B's out
LIVE_DIRECTION: Direction = "a2b"  # the person in front of the camera is A; the output shows B

BACKENDS = (
    "onnxruntime",
    "tensorrt",
    "torch",
)  # stream.backends.REGISTRY's names, in `auto`'s order of files
BACKEND_CHOICES = ("auto", *BACKENDS)
BLEND_DEVICES = ("auto", "cpu", "cuda")  # where crop and paste-back run; auto: on the GPU when the model is


def parse_direction(text: str) -> Direction:
    """``text`` as a direction (from a model's metadata or the command line); ValueError otherwise."""
    for direction in DIRECTIONS:
        if text == direction:
            return direction
    raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, got {text!r}")
