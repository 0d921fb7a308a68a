"""Checkpoint → ONNX: one direction of a trained model as one graph with the contract's names and metadata.

Steps: load the checkpoint → pick the target identity's decoder → (fp16: cast) → trace to ONNX with a
dynamic batch → write metadata → onnx.checker → parity against PyTorch fp32 on real aligned faces → write
the file atomically. A failed parity check writes nothing.
"""

import copy
import io
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import torch

from export.parity import Parity, compare, onnx_outputs, sample_faces, torch_outputs
from stream.choices import LIVE_DIRECTION, Direction
from stream.contract import INPUT_NAME, OUTPUT_NAMES, ModelInfo, metadata_for
from stream.errors import SwapcamError
from stream.files import atomic_output
from stream.quality import undertrained_signs
from trained.checkpoint import DECODER, load_model, model_info
from trained.model import SwapDirection

DEFAULT_OPSET = 17
OPSETS = (9, 21)  # exported and parity-checked at both ends with torch 2.13 and ONNX Runtime 1.32


@dataclass(frozen=True)
class Signature:
    """Name, element type and shape (dynamic dims by name) of each graph input and output."""

    inputs: tuple[tuple[str, str, tuple[str, ...]], ...]
    outputs: tuple[tuple[str, str, tuple[str, ...]], ...]

    def describe(self) -> str:
        def one(entry: tuple[str, str, tuple[str, ...]]) -> str:
            return f"{entry[0]} {entry[1]} ({', '.join(entry[2])})"

        return ", ".join(map(one, self.inputs)) + " → " + ", ".join(map(one, self.outputs))


@dataclass(frozen=True)
class ExportReport:
    info: ModelInfo
    signature: Signature
    parity: Parity
    undertrained: list[str]  # signs, on the parity faces, that the model is clearly undertrained
    path: Path
    bytes: int


def signature_of(model: onnx.ModelProto) -> Signature:
    def entries(values: list[onnx.ValueInfoProto]) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
        return tuple(
            (
                value.name,
                onnx.helper.tensor_dtype_to_np_dtype(value.type.tensor_type.elem_type).name,
                tuple(d.dim_param or str(d.dim_value) for d in value.type.tensor_type.shape.dim),
            )
            for value in values
        )

    return Signature(inputs=entries(list(model.graph.input)), outputs=entries(list(model.graph.output)))


def trace_graph(
    module: torch.nn.Module,
    example: torch.Tensor,
    input_name: str,
    outputs: Mapping[str, tuple[int, ...]],
    opset: int,
) -> onnx.ModelProto:
    """``module`` as an ONNX graph with a dynamic batch: one input, and ``outputs`` (name → shape without
    the batch, in the module's output order) written into the graph, where the tracer leaves H and W
    symbolic."""
    buffer = io.BytesIO()
    batch = {0: "batch"}
    # The TorchScript exporter: the torch.export-based one needs the onnxscript package and gives the same
    # graph for this convolution-only model. Its deprecation notice is not for our users.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        # The TorchScript exporter writes to a file object too; export's annotation names paths only.
        torch.onnx.export(
            module,
            (example,),
            buffer,  # type: ignore[arg-type]
            input_names=[input_name],
            output_names=list(outputs),
            dynamic_axes={input_name: batch, **{name: batch for name in outputs}},
            opset_version=opset,
            dynamo=False,
        )
    graph = onnx.load_from_string(buffer.getvalue())
    for output in graph.graph.output:
        for dim, value in zip(output.type.tensor_type.shape.dim[1:], outputs[output.name], strict=True):
            dim.Clear()
            dim.dim_value = value
    return graph


def trace(module: torch.nn.Module, resolution: int, dtype: torch.dtype, opset: int) -> onnx.ModelProto:
    """The contract's graph: ``face`` (batch, 3, R, R) → ``swapped`` (batch, 3, R, R), ``mask`` (batch, 1,
    R, R)."""
    example = torch.rand(1, 3, resolution, resolution, dtype=dtype)
    shapes = dict(zip(OUTPUT_NAMES, ((3, resolution, resolution), (1, resolution, resolution)), strict=True))
    return trace_graph(module, example, INPUT_NAME, shapes, opset)


def export_onnx(
    source: Path,
    out: Path,
    direction: Direction = LIVE_DIRECTION,
    fp16: bool = False,
    opset: int = DEFAULT_OPSET,
) -> ExportReport:
    """Export ``direction`` of the checkpoint (or run) at ``source`` to ``out``; see the module docstring."""
    if direction not in DECODER:
        raise SwapcamError(f"--direction must be a2b or b2a, got {direction!r}")
    if not OPSETS[0] <= opset <= OPSETS[1]:
        raise SwapcamError(f"--opset must be {OPSETS[0]}..{OPSETS[1]}, got {opset}")
    model, state = load_model(source)
    precision = "fp16" if fp16 else "fp32"
    info = model_info(state, direction, precision)
    reference = SwapDirection(model, DECODER[direction])
    module = SwapDirection(copy.deepcopy(model).half(), DECODER[direction]) if fp16 else reference
    graph = trace(module.eval(), info.resolution, torch.float16 if fp16 else torch.float32, opset)
    onnx.helper.set_model_props(graph, metadata_for(info))
    onnx.checker.check_model(graph, full_check=True)
    payload = graph.SerializeToString()
    faces = sample_faces(info.align_spec)
    expected = torch_outputs(reference, faces)
    parity = compare(expected, onnx_outputs(payload, faces, np.float16 if fp16 else np.float32), precision)
    if not parity.passed:
        raise SwapcamError(f"export failed, nothing written: {parity.describe()}")
    write_atomically(out, payload)
    signs = undertrained_on(faces, expected)
    return ExportReport(
        info=info,
        signature=signature_of(graph),
        parity=parity,
        path=out,
        bytes=len(payload),
        undertrained=signs,
    )


def undertrained_on(faces: np.ndarray, outputs: dict[str, np.ndarray]) -> list[str]:
    """``stream.quality.undertrained_signs`` for (N, 3, R, R) faces and the model's outputs for them."""
    return undertrained_signs(
        faces.transpose(0, 2, 3, 1), outputs["swapped"].transpose(0, 2, 3, 1), outputs["mask"][:, 0]
    )


def write_atomically(path: Path, payload: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(path) as part:
            part.write_bytes(payload)
    except OSError as error:
        raise SwapcamError(f"cannot write {path}: {error.strerror or error}") from error
