"""The physical floor beside the measured time: what a model costs per face, from its ONNX graph.

FLOPs are counted the way ``torch.utils.flop_counter`` counts them (a multiply-add is 2 FLOPs) for the
operators that carry the work of a convolutional swap model — Conv, ConvTranspose, Gemm, MatMul — with
the batch fixed at 1; element-wise operators, activations and pixel shuffles are left out.
"""

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper, shape_inference


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


def onnx_cost(path: Path) -> dict[str, int]:
    """{"flops_per_face", "weight_bytes"} of an ONNX model file."""
    model = onnx.load(str(path))
    weight_bytes = sum(numpy_helper.to_array(t).nbytes for t in model.graph.initializer)
    shapes = _shapes(model)
    flops = sum(node_flops(node, shapes) for node in model.graph.node)
    return {"flops_per_face": flops, "weight_bytes": weight_bytes}
