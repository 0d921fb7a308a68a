"""The sharpest output a model's crop allows: the input face itself, cut out at the model's resolution and
pasted back by the live pipeline (a model that reproduced every input face perfectly). `swapcam eval` gives
its detail ratio beside the model's, so that "blurry" is measured against what the resolution permits."""

from pathlib import Path

import onnx
from onnx import TensorProto, helper

from stream.backends import choose_backend, open_backend
from stream.contract import INPUT_NAME, OUTPUT_NAMES, ModelInfo, metadata_for

OPSET = 17


def model_info(model: Path) -> ModelInfo:
    """The contract metadata of any model file swapcam runs (opened once, then closed)."""
    with open_backend(model, choose_backend(model), lambda message: None) as backend:
        return backend.info


def passthrough_model(info: ModelInfo, path: Path) -> Path:
    """Write an ONNX model with ``info``'s contract whose swapped face is its input and whose mask is 1."""
    side = info.resolution
    face = helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["N", 3, side, side])
    swapped_name, mask_name = OUTPUT_NAMES
    outputs = [
        helper.make_tensor_value_info(swapped_name, TensorProto.FLOAT, ["N", 3, side, side]),
        helper.make_tensor_value_info(mask_name, TensorProto.FLOAT, ["N", 1, side, side]),
    ]
    zero = helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0])
    one = helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])
    nodes = [
        helper.make_node("Identity", [INPUT_NAME], [swapped_name]),
        helper.make_node("ReduceMax", [INPUT_NAME], ["channel_max"], axes=[1], keepdims=1),
        helper.make_node("Mul", ["channel_max", "zero"], ["zeros"]),
        helper.make_node("Add", ["zeros", "one"], [mask_name]),
    ]
    graph = helper.make_graph(nodes, "passthrough", [face], outputs, initializer=[zero, one])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    metadata = metadata_for(info)
    onnx.helper.set_model_props(model, {**metadata, "source": "passthrough", "precision": "fp32"})
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
