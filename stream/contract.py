"""The swap-model file contract: what an exported ONNX model (or an engine built from one) must provide.

- input ``face``: float32 or float16, NCHW, RGB in [0, 1], shape (N, 3, R, R) with N dynamic;
- outputs ``swapped`` (N, 3, R, R) RGB in [0, 1] and ``mask`` (N, 1, R, R) in [0, 1];
- metadata (ONNX ``metadata_props``): the keys of ``REQUIRED_METADATA``.

The live pipeline configures alignment from this metadata, so a model is never run on the wrong crop.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from stream.align import AlignSpec, alignment_of, alignment_record
from stream.choices import DIRECTIONS, Direction, parse_direction
from stream.errors import SwapcamError

FORMAT_VERSION = "1"
INPUT_NAME = "face"
OUTPUT_NAMES = ("swapped", "mask")
REQUIRED_METADATA = (
    "swapcam.format_version",
    "resolution",
    "face_type",
    "coverage",
    "template",
    "channels",
    "identity_a",
    "identity_b",
    "direction",
    "training_steps",
    "source",
    "precision",
)
PRECISIONS = ("fp32", "fp16")


@dataclass(frozen=True)
class ModelInfo:
    """What the contract's metadata says about a model."""

    resolution: int
    face_type: str
    coverage: float
    template: str
    identity_a: str
    identity_b: str
    direction: Direction  # "a2b": faces of A in, B out
    training_steps: int
    source: str
    precision: str

    def __post_init__(self) -> None:
        self.align_spec  # noqa: B018 - constructing the spec validates face type, resolution and coverage
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be a2b or b2a, got {self.direction!r}")

    @property
    def align_spec(self) -> AlignSpec:
        return AlignSpec(
            face_type=self.face_type,
            size=self.resolution,
            coverage=self.coverage,
            template=self.template,
        )


def parse_metadata(metadata: Mapping[str, str], origin: str, channels: str = "RGB") -> ModelInfo:
    """Check and parse contract metadata; ``origin`` names the file in error messages. ``channels``: the
    colour order the file's format has (RGB for swapcam's ONNX, BGR for a ``.dfm``)."""
    metadata = alignment_record(metadata)
    missing = [key for key in REQUIRED_METADATA if key not in metadata]
    if missing:
        raise SwapcamError(f"{origin} is not a swapcam model: its metadata lacks {', '.join(missing)}")
    found = metadata["swapcam.format_version"]
    if found != FORMAT_VERSION:
        raise SwapcamError(f"{origin} has swapcam format version {found}, expected {FORMAT_VERSION}")
    try:
        alignment_of(metadata["template"])
    except ValueError as error:
        raise SwapcamError(
            f"{origin} was trained on faces aligned in a way this swapcam cannot crop: {error}"
        ) from error
    if metadata["channels"] != channels or metadata["precision"] not in PRECISIONS:
        raise SwapcamError(
            f"{origin}: expected channels {channels} and precision fp32/fp16, "
            f"got {metadata['channels']} and {metadata['precision']}"
        )
    try:
        return ModelInfo(
            resolution=int(metadata["resolution"]),
            face_type=metadata["face_type"],
            coverage=float(metadata["coverage"]),
            template=metadata["template"],
            identity_a=metadata["identity_a"],
            identity_b=metadata["identity_b"],
            direction=parse_direction(metadata["direction"]),
            training_steps=int(metadata["training_steps"]),
            source=metadata["source"],
            precision=metadata["precision"],
        )
    except ValueError as error:
        raise SwapcamError(f"{origin} has invalid metadata: {error}") from error


# (name, element type as NumPy names it, shape with dynamic dimensions named) of one graph input or output
TensorSpec = tuple[str, str, tuple[str, ...]]
FLOAT_TYPES = ("float32", "float16")


def check_io(
    inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec], info: ModelInfo, origin: str
) -> None:
    """A model's inputs and outputs against the contract: names, rank 4, (3 or 1, R, R) after the batch
    dimension at the metadata's resolution R, and float element types (the input's as its precision says).
    A mismatch is one ``SwapcamError`` saying what was expected and what was found."""
    r = str(info.resolution)
    input_type = "float16" if info.precision == "fp16" else "float32"
    wanted = {
        INPUT_NAME: ((input_type,), ("3", r, r)),
        OUTPUT_NAMES[0]: (FLOAT_TYPES, ("3", r, r)),
        OUTPUT_NAMES[1]: (FLOAT_TYPES, ("1", r, r)),
    }
    names_ok = [e[0] for e in inputs] == [INPUT_NAME] and sorted(e[0] for e in outputs) == sorted(
        OUTPUT_NAMES
    )
    if names_ok and all(
        kind in wanted[name][0] and len(shape) == 4 and shape[1:] == wanted[name][1]
        for name, kind, shape in (*inputs, *outputs)
    ):
        return

    def describe(entries: Sequence[TensorSpec]) -> str:
        return ", ".join(f"{name} {kind} ({', '.join(shape)})" for name, kind, shape in entries)

    raise SwapcamError(
        f"{origin} does not have the swapcam I/O: expected input {INPUT_NAME} {input_type} (N, 3, {r}, {r}) "
        f"and outputs {OUTPUT_NAMES[0]} float (N, 3, {r}, {r}), {OUTPUT_NAMES[1]} float (N, 1, {r}, {r}); "
        f"found inputs {describe(inputs)} and outputs {describe(outputs)}"
    )


def metadata_for(info: ModelInfo, channels: str = "RGB") -> dict[str, str]:
    """The metadata_props to write for ``info``; ``channels`` as in ``parse_metadata``."""
    return {
        "swapcam.format_version": FORMAT_VERSION,
        "resolution": str(info.resolution),
        "face_type": info.face_type,
        "coverage": f"{info.coverage:g}",
        "template": info.template,
        "channels": channels,
        "identity_a": info.identity_a,
        "identity_b": info.identity_b,
        "direction": info.direction,
        "training_steps": str(info.training_steps),
        "source": info.source,
        "precision": info.precision,
    }
