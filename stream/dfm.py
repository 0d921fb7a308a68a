"""The ``.dfm`` face-model format of DeepFaceLab's exporter, as DeepFaceLive and FaceFusion load it.

A ``.dfm`` is an ONNX graph (DeepFaceLab: TensorFlow → tf2onnx, opset 12) with
- input ``in_face:0``: float32 (N, R, R, 3), the aligned face in BGR, values in [0, 1];
- optionally a second input ``morph_value:0``: float32 (1,), in AMP models (how far the swap leans toward
  the celebrity; DeepFaceLive's default 0.75);
- outputs, in exactly this order because DeepFaceLive's loader unpacks them by position:
  ``out_face_mask:0`` (N, R, R, 1), the input face's mask from its own decoder;
  ``out_celeb_face:0`` (N, R, R, 3), the swapped face in BGR [0, 1];
  ``out_celeb_face_mask:0`` (N, R, R, 1), the swapped face's mask.
Sources: DeepFaceLab ``models/Model_SAEHD/Model.py`` and ``models/Model_AMP/Model.py`` (``export_dfm``),
DeepFaceLive ``modelhub/DFLive/DFMModel.py`` (``DFMModel``). DeepFaceLive merges with the product of the
two masks by default and crops faces with its own alignment (``stream.align_dflive``).

A ``.dfm`` carries no alignment of its own; one exported by swapcam also carries swapcam's metadata
(``stream.contract``, channels BGR), which names the alignment it was trained with.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from stream.align import DFLIVE, MAX_SIZE, MIN_SIZE
from stream.choices import LIVE_DIRECTION
from stream.contract import ModelInfo, parse_metadata
from stream.errors import SwapcamError

FACE_INPUT = "in_face:0"
MORPH_INPUT = "morph_value:0"
OUTPUTS = ("out_face_mask:0", "out_celeb_face:0", "out_celeb_face_mask:0")
DEFAULT_MORPH = 0.75
FLOAT = "tensor(float)"  # ONNX Runtime's name of float32
EXPECTED = (
    f"float32 inputs [{FACE_INPUT} (N, R, R, 3)] or [{FACE_INPUT}, {MORPH_INPUT} (1,)] "
    f"and outputs [{', '.join(OUTPUTS)}] in this order"
)


@dataclass(frozen=True)
class DfmSignature:
    resolution: int
    fixed_batch: int | None  # the graph's batch size when it is not dynamic
    morph: bool  # has a morph_value input


def read_signature(
    inputs: Sequence[tuple[str, Sequence[object], str]], outputs: Sequence[str], origin: str
) -> DfmSignature:
    """Check a graph's (name, shape, element type) inputs and output names against the format; one-line
    error if not. Element types as ONNX Runtime names them (``tensor(float)``)."""
    names = [name for name, _, _ in inputs]
    if names not in ([FACE_INPUT], [FACE_INPUT, MORPH_INPUT]) or list(outputs) != list(OUTPUTS):
        raise SwapcamError(
            f"{origin} is not a DeepFaceLab .dfm face model: expected {EXPECTED}, "
            f"it has inputs {names} and outputs {list(outputs)}"
        )
    types = [kind for _, _, kind in inputs]
    if any(kind != FLOAT for kind in types) or (len(inputs) == 2 and list(inputs[1][1]) != [1]):
        found = ", ".join(f"{name} {kind} {tuple(shape)}" for name, shape, kind in inputs)
        raise SwapcamError(f"{origin}: expected {EXPECTED}, it has {found}")
    shape = list(inputs[0][1])
    size = shape[1] if len(shape) == 4 else None
    if not (isinstance(size, int) and size == shape[2] and shape[3] == 3):
        raise SwapcamError(
            f"{origin}: expected {FACE_INPUT} of shape (N, R, R, 3) with a fixed R, it has {tuple(shape)}"
        )
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise SwapcamError(f"{origin}: expected a resolution of {MIN_SIZE}..{MAX_SIZE} px, it has {size}")
    batch = shape[0] if isinstance(shape[0], int) and shape[0] > 0 else None
    return DfmSignature(resolution=size, fixed_batch=batch, morph=len(names) == 2)


def dfm_info(signature: DfmSignature, metadata: Mapping[str, str], name: str, origin: str) -> ModelInfo:
    """What a ``.dfm`` is: swapcam's metadata when it has it, else DeepFaceLive's alignment at its
    defaults and the file's name as the target identity."""
    if "swapcam.format_version" in metadata:
        info = parse_metadata(metadata, origin, channels="BGR")
        if info.resolution != signature.resolution:
            raise SwapcamError(
                f"{origin}: its metadata says {info.resolution} px, its input is {signature.resolution} px"
            )
        return info
    return ModelInfo(
        resolution=signature.resolution,
        face_type="whole_face",
        coverage=DFLIVE.coverage[1],
        template=DFLIVE.template,
        identity_a="camera",
        identity_b=name,
        direction=LIVE_DIRECTION,
        training_steps=0,  # not recorded in a .dfm
        source="DeepFaceLab .dfm",
        precision="fp32",
    )
