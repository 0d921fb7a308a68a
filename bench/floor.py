"""The physical floor beside the measured time: what a model costs per face, from its ONNX graph (or, for a
checkpoint, from torch's FLOP counter), and on a GPU the least time that cost can take there.

From ONNX, FLOPs are counted the way ``torch.utils.flop_counter`` counts them (a multiply-add is 2 FLOPs)
for the operators that carry the work of a convolutional swap model — Conv, ConvTranspose, Gemm, MatMul —
with the batch fixed at 1; element-wise operators, activations and pixel shuffles are left out.
"""

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper, shape_inference

from stream.choices import LIVE_DIRECTION


def _shapes(model: onnx.ModelProto) -> dict[str, list[int]]:
    """Static shape of every tensor with the batch dimension fixed at 1."""
    for value in model.graph.input:
        dims = value.type.tensor_type.shape.dim
        if dims and not dims[0].dim_value:
            dims[0].Clear()
            dims[0].dim_value = 1
    inferred = shape_inference.infer_shapes(model)
    values = [*inferred.graph.value_info, *inferred.graph.input, *inferred.graph.output]
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in values}
    shapes.update({t.name: list(t.dims) for t in model.graph.initializer})
    return shapes


def node_flops(node: onnx.NodeProto, shapes: dict[str, list[int]]) -> int:
    """FLOPs of one node at batch 1 (0 for operators not counted)."""
    if node.op_type == "Conv":
        out, weight = shapes[node.output[0]], shapes[node.input[1]]  # weight: (Co, Ci/groups, kh, kw)
        return 2 * int(np.prod(out)) * int(np.prod(weight[1:]))
    if node.op_type == "ConvTranspose":
        source, weight = shapes[node.input[0]], shapes[node.input[1]]
        return 2 * int(np.prod(source)) * int(np.prod(weight[1:]))  # weight: (Ci, Co/groups, kh, kw)
    if node.op_type in ("Gemm", "MatMul"):
        a, out = shapes[node.input[0]], shapes[node.output[0]]
        return 2 * int(np.prod(out)) * a[-1]
    return 0


def checkpoint_cost(path: Path, bytes_per_weight: int) -> dict[str, int]:
    """{"flops_per_face", "weight_bytes"} of one swap direction of a checkpoint, FLOPs counted by
    ``torch.utils.flop_counter`` (``trained.model.count_flops``), weights at ``bytes_per_weight`` each."""
    from trained.checkpoint import DECODER, load_model
    from trained.model import SwapDirection, count_flops

    model, state = load_model(path)
    module = SwapDirection(model, DECODER[LIVE_DIRECTION])
    weights = sum(parameter.numel() for parameter in module.parameters())
    resolution = int(state["model_config"]["resolution"])
    return {"flops_per_face": count_flops(module, resolution), "weight_bytes": weights * bytes_per_weight}


def gpu_floor_ms(cost: Mapping[str, int], ceilings: Mapping[str, float]) -> float:
    """The least time one face can take on a GPU with these ceilings: its FLOPs at the measured matrix rate
    or its weights at the measured copy rate, whichever is longer (launch latency not counted)."""
    compute_s = cost["flops_per_face"] / (ceilings["fp16_tflops"] * 1e12)
    memory_s = cost["weight_bytes"] / (ceilings["copy_gbps"] * 1e9)
    return max(compute_s, memory_s) * 1e3


def onnx_cost(path: Path) -> dict[str, int]:
    """{"flops_per_face", "weight_bytes"} of an ONNX model file."""
    model = onnx.load(str(path))
    weight_bytes = sum(numpy_helper.to_array(t).nbytes for t in model.graph.initializer)
    shapes = _shapes(model)
    flops = sum(node_flops(node, shapes) for node in model.graph.node)
    return {"flops_per_face": flops, "weight_bytes": weight_bytes}
