"""Checkpoint → ``.dfm``: one direction of a trained model with DeepFaceLab's face-model signature, for
DeepFaceLive, FaceFusion and ``swapcam live`` (format: ``stream.dfm``).

The graph wraps our model: BGR NHWC in → RGB NCHW → shared encoder and bottleneck → the target identity's
decoder (the swapped face and its mask) and the input identity's decoder (the input face's mask, which
DeepFaceLive multiplies in) → NHWC, BGR. IR version 8, opset 17 by default: DeepFaceLive ships ONNX Runtime
1.15, which reads IR ≤ 9. Our metadata travels along (channels BGR), so swapcam crops faces for the model
the way it was trained; DeepFaceLive ignores it and crops with its own alignment, hence the check that the
model was trained on faces extracted with ``--align dflive``. Parity against PyTorch on real faces, as for
ONNX; a failed check writes nothing.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

from export.onnx_export import ExportReport, signature_of, trace_graph, undertrained_on, write_atomically
from export.parity import compare, sample_faces, torch_outputs
from stream.align import DFLIVE
from stream.choices import LIVE_DIRECTION, Direction
from stream.contract import ModelInfo, metadata_for
from stream.dfm import FACE_INPUT, OUTPUTS, read_signature
from stream.errors import SwapcamError
from trained.checkpoint import DECODER, load_model, model_info
from trained.model import SwapAutoencoder, SwapDirection

IR_VERSION = 8
OPSETS = (12, 18)  # what IR version 8 allows, from DeepFaceLab's 12 up
SOURCE_DECODER: dict[Direction, str] = {
    "a2b": "a",
    "b2a": "b",
}  # direction → the decoder of the face that goes in


class DfmGraph(nn.Module):
    """(N, R, R, 3) BGR in [0, 1] → out_face_mask, out_celeb_face (BGR), out_celeb_face_mask, NHWC."""

    def __init__(self, model: SwapAutoencoder, direction: Direction) -> None:
        super().__init__()
        self.model = model
        self.target, self.source = DECODER[direction], SOURCE_DECODER[direction]

    def forward(self, face: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        features, code = self.model.encode(face.flip(-1).permute(0, 3, 1, 2))
        swapped, swapped_mask = self.model.decode(features, code, self.target)
        _, face_mask = self.model.decode(features, code, self.source)
        return (
            face_mask.permute(0, 2, 3, 1),
            swapped.flip(1).permute(0, 2, 3, 1),
            swapped_mask.permute(0, 2, 3, 1),
        )


@dataclass(frozen=True)
class AlignmentCheck:
    """Whether DeepFaceLive will crop faces the way the model was trained, and what to tell the user."""

    matches: bool
    advice: str


def check_alignment(info: ModelInfo) -> AlignmentCheck:
    if info.template != DFLIVE.template:
        return AlignmentCheck(
            False,
            f"the model was trained on faces aligned with {info.template}, but DeepFaceLive and "
            f"FaceFusion crop with their own alignment: extract with `swapcam extract --align dflive`, "
            "train on those faces, then export",
        )
    default = DFLIVE.coverage[1]
    if round(info.coverage, 1) != info.coverage:
        return AlignmentCheck(
            True,
            f"the model was trained at coverage {info.coverage:g}, and DeepFaceLive sets Face coverage in "
            "steps of 0.1: extract at such a coverage for the crops to match there",
        )
    if info.coverage != default:
        return AlignmentCheck(
            True,
            f"set Face coverage to {info.coverage:g} in DeepFaceLive's face aligner (default {default:g})",
        )
    return AlignmentCheck(True, "")


def trace_dfm(module: nn.Module, resolution: int, opset: int) -> onnx.ModelProto:
    shapes = dict(zip(OUTPUTS, ((resolution, resolution, c) for c in (1, 3, 1)), strict=True))
    graph = trace_graph(module, torch.rand(1, resolution, resolution, 3), FACE_INPUT, shapes, opset)
    graph.ir_version = IR_VERSION
    return graph


def dfm_outputs(session: ort.InferenceSession, faces_rgb: np.ndarray) -> dict[str, np.ndarray]:
    """The ``.dfm``'s outputs for (N, 3, R, R) RGB faces, turned back into the contract's layout."""
    face_mask, swapped, swapped_mask = session.run(
        list(OUTPUTS), {FACE_INPUT: np.ascontiguousarray(faces_rgb[:, ::-1].transpose(0, 2, 3, 1))}
    )
    return {
        "swapped": swapped[..., ::-1].transpose(0, 3, 1, 2),
        "mask": swapped_mask.transpose(0, 3, 1, 2),
        "input mask": face_mask.transpose(0, 3, 1, 2),
    }


def torch_reference(
    model: SwapAutoencoder, direction: Direction, faces_rgb: np.ndarray
) -> dict[str, np.ndarray]:
    """What the model gives in PyTorch, each direction run as the ONNX export runs it."""
    outputs = torch_outputs(SwapDirection(model, DECODER[direction]), faces_rgb)
    outputs["input mask"] = torch_outputs(SwapDirection(model, SOURCE_DECODER[direction]), faces_rgb)["mask"]
    return outputs


def export_dfm(
    source: Path, out: Path, direction: Direction = LIVE_DIRECTION, opset: int = 17, force: bool = False
) -> tuple[ExportReport, AlignmentCheck]:
    """Export ``direction`` of the checkpoint (or run) at ``source`` as a ``.dfm``; see the module docstring.
    A model trained on another alignment is refused unless ``force``."""
    if direction not in DECODER:
        raise SwapcamError(f"--direction must be a2b or b2a, got {direction!r}")
    if out.suffix != ".dfm":
        raise SwapcamError(f"--out expects a .dfm file, got {out.name!r}")
    if not OPSETS[0] <= opset <= OPSETS[1]:
        raise SwapcamError(
            f"--opset must be {OPSETS[0]}..{OPSETS[1]} for a .dfm (IR version {IR_VERSION}, which "
            f"DeepFaceLive's ONNX Runtime 1.15 reads), got {opset}"
        )
    model, state = load_model(source)
    info = model_info(state, direction, "fp32")
    alignment = check_alignment(info)
    if not (alignment.matches or force):
        raise SwapcamError(f"not exported: {alignment.advice} (or --force to export it anyway)")
    graph = trace_dfm(DfmGraph(model, direction).eval(), info.resolution, opset)
    onnx.helper.set_model_props(graph, metadata_for(info, channels="BGR"))
    onnx.checker.check_model(graph, full_check=True)
    payload = graph.SerializeToString()
    session = ort.InferenceSession(payload, providers=["CPUExecutionProvider"])
    inputs = [(item.name, item.shape, item.type) for item in session.get_inputs()]
    read_signature(inputs, [item.name for item in session.get_outputs()], str(out))  # as swapcam loads it
    faces = sample_faces(info.align_spec)
    expected = torch_reference(model, direction, faces)
    parity = compare(expected, dfm_outputs(session, faces), "fp32")
    if not parity.passed:
        raise SwapcamError(f"export failed, nothing written: {parity.describe()}")
    write_atomically(out, payload)
    report = ExportReport(
        info=info,
        signature=signature_of(graph),
        parity=parity,
        path=out,
        bytes=len(payload),
        undertrained=undertrained_on(faces, expected),
    )
    return report, alignment
