"""``swapcam export verify``: check an ONNX file against the model contract and say how it would run here."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from google.protobuf.message import DecodeError

from export.onnx_export import Signature, signature_of
from export.parity import Parity, compare, onnx_outputs, sample_faces, torch_outputs
from stream.contract import ModelInfo, check_io, parse_metadata
from stream.errors import SwapcamError
from trained.checkpoint import DECODER, load_model
from trained.model import SwapDirection


@dataclass(frozen=True)
class VerifyReport:
    info: ModelInfo
    metadata: dict[str, str]
    signature: Signature
    providers: dict[str, str]  # provider → "ok" or why it did not load
    parity: Parity | None


def load_onnx(path: Path) -> onnx.ModelProto:
    if not path.is_file():
        raise SwapcamError(f"no such file: {path}")
    try:
        return onnx.load(str(path))
    except (DecodeError, ValueError, OSError) as error:
        raise SwapcamError(f"{path} is not an ONNX file ({type(error).__name__})") from error


def check_signature(signature: Signature, info: ModelInfo, origin: str) -> None:
    """Inputs and outputs must be the contract's names, types and shapes at the metadata's resolution."""
    check_io(signature.inputs, signature.outputs, info, origin)


def provider_status(path: Path) -> dict[str, str]:
    status = {}
    for provider in ort.get_available_providers():
        try:
            ort.InferenceSession(str(path), providers=[provider])
            status[provider] = "ok"
        except Exception as error:
            status[provider] = f"does not load: {str(error).splitlines()[0][:120]}"
    return status


def verify_onnx(path: Path, run: Path | None = None) -> VerifyReport:
    if path.suffix == ".dfm":
        raise SwapcamError(
            f"export verify checks swapcam .onnx files; {path.name} is a .dfm: "
            f"`swapcam doctor --model {path}` loads it and checks its signature"
        )
    graph = load_onnx(path)
    metadata = {prop.key: prop.value for prop in graph.metadata_props}
    info = parse_metadata(metadata, str(path))
    signature = signature_of(graph)
    check_signature(signature, info, str(path))
    parity = None
    if run is not None:
        model, state = load_model(run)
        trained_as = (model.config.resolution, state["labels"]["a"], state["labels"]["b"])
        if trained_as != (info.resolution, info.identity_a, info.identity_b):
            raise SwapcamError(
                f"--run {run} is a {trained_as[0]} px model of {trained_as[1]}→{trained_as[2]}, "
                f"but {path} is {info.resolution} px of {info.identity_a}→{info.identity_b}: "
                "not the run it was exported from"
            )
        faces = sample_faces(info.align_spec)
        dtype = np.float16 if info.precision == "fp16" else np.float32
        reference = torch_outputs(SwapDirection(model, DECODER[info.direction]), faces)
        parity = compare(reference, onnx_outputs(str(path), faces, dtype), info.precision)
    return VerifyReport(
        info=info, metadata=metadata, signature=signature, providers=provider_status(path), parity=parity
    )
