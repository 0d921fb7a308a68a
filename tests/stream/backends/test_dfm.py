"""DeepFaceLab ``.dfm`` models in the ONNX Runtime backend: signature checks, layout, masks, morph, batches.

The graphs here are built by hand with DeepFaceLab's exported signature (DeepFaceLab
``models/Model_AMP/Model.py`` ``export_dfm``: inputs ``in_face:0`` (None, R, R, 3) and ``morph_value:0`` (1,),
outputs ``out_face_mask:0``, ``out_celeb_face:0``, ``out_celeb_face_mask:0``, opset 12) and simple
arithmetic, so every output value is known.
"""

import re
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from stream.align import DFLIVE
from stream.backends import apply_morph, choose_backend, open_backend
from stream.cli import main
from stream.dfm import read_signature
from stream.errors import SwapcamError

RES = 64


def dfl_like_graph(
    path: Path,
    batch: int | str = "unk__6",
    morph: bool = True,
    outputs: tuple[str, ...] = ("out_face_mask:0", "out_celeb_face:0", "out_celeb_face_mask:0"),
) -> Path:
    """celeb = (1 - face) * morph (or 1 - face); face mask = mean over channels; celeb mask = half that."""
    inputs = [helper.make_tensor_value_info("in_face:0", TensorProto.FLOAT, [batch, RES, RES, 3])]
    nodes = [
        helper.make_node(
            "Constant", [], ["one"], value=helper.make_tensor("1", TensorProto.FLOAT, [], [1.0])
        ),
        helper.make_node(
            "Constant", [], ["half"], value=helper.make_tensor("h", TensorProto.FLOAT, [], [0.5])
        ),
        helper.make_node("Sub", ["one", "in_face:0"], ["inverse"]),
        helper.make_node("ReduceMean", ["in_face:0"], ["out_face_mask:0"], axes=[3], keepdims=1),
        helper.make_node("Mul", ["out_face_mask:0", "half"], ["out_celeb_face_mask:0"]),
    ]
    if morph:
        inputs.append(helper.make_tensor_value_info("morph_value:0", TensorProto.FLOAT, [1]))
        nodes.append(helper.make_node("Mul", ["inverse", "morph_value:0"], ["out_celeb_face:0"]))
    else:
        nodes.append(helper.make_node("Identity", ["inverse"], ["out_celeb_face:0"]))
    channels = {"out_face_mask:0": 1, "out_celeb_face:0": 3, "out_celeb_face_mask:0": 1}
    declared = [
        helper.make_tensor_value_info(name, TensorProto.FLOAT, [batch, RES, RES, channels[name]])
        for name in outputs
    ]
    graph = helper.make_graph(nodes, "dfl_like", inputs, declared)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.fixture
def crops() -> np.ndarray:
    return np.random.default_rng(3).integers(0, 256, size=(3, RES, RES, 3), dtype=np.uint8)


def open_dfm(path: Path):
    return open_backend(path, choose_backend(path), lambda message: None)


def test_a_dfl_model_runs_in_bgr_with_the_product_of_its_masks_and_deepfacelives_alignment(tmp_path, crops):
    backend = open_dfm(dfl_like_graph(tmp_path / "Celeb.dfm", morph=False))
    faces, masks = backend.swap(crops)
    backend.close()
    unit = crops.astype(np.float32) / 255
    np.testing.assert_allclose(faces, 1 - unit, atol=1e-6)  # same channel order in and out: BGR
    mean = unit.mean(axis=3)
    np.testing.assert_allclose(masks, mean * (mean / 2), atol=1e-6)
    spec = backend.info.align_spec
    assert (spec.template, spec.coverage, spec.face_type, spec.size) == (
        DFLIVE.template,
        2.2,
        "whole_face",
        RES,
    )
    assert backend.info.identity_b == "Celeb"


def test_morph_defaults_to_deepfacelives_and_can_be_set(tmp_path, crops):
    backend = open_dfm(dfl_like_graph(tmp_path / "amp.dfm"))
    unit = crops.astype(np.float32) / 255
    said: list[str] = []
    apply_morph(backend, None, said.append)
    np.testing.assert_allclose(backend.swap(crops)[0], (1 - unit) * 0.75, atol=1e-6)
    apply_morph(backend, 0.2, said.append)
    np.testing.assert_allclose(backend.swap(crops)[0], (1 - unit) * 0.2, atol=1e-6)
    assert said == ["morph 0.75 (--morph 0..1 changes it)", "morph 0.2 (--morph 0..1 changes it)"]
    assert "morph 0.2" in backend.describe()
    with pytest.raises(SwapcamError, match=r"must be 0\.\.1"):
        backend.set_morph(1.5)
    backend.close()


def test_morph_is_refused_for_models_without_a_morph_input(tmp_path, exported):
    for path in (dfl_like_graph(tmp_path / "df.dfm", morph=False), exported["fp32"]):
        backend = open_dfm(path)
        with pytest.raises(SwapcamError, match=r"--morph needs a \.dfm model with a morph_value input"):
            apply_morph(backend, 0.5, lambda message: None)
        backend.close()


@pytest.mark.parametrize("batch", [1, 2])
def test_a_graph_with_a_fixed_batch_runs_any_number_of_faces(tmp_path, crops, batch):
    backend = open_dfm(dfl_like_graph(tmp_path / "fixed.dfm", batch=batch, morph=False))
    for count in (1, 3):
        faces, masks = backend.swap(crops[:count])
        assert faces.shape == (count, RES, RES, 3) and masks.shape == (count, RES, RES)
        np.testing.assert_allclose(faces, 1 - crops[:count].astype(np.float32) / 255, atol=1e-6)
    backend.close()


@pytest.mark.parametrize(
    ("outputs", "found"),
    [
        (
            ("out_celeb_face:0", "out_face_mask:0", "out_celeb_face_mask:0"),
            "'out_celeb_face:0', 'out_face_mask:0'",
        ),
        (("out_face_mask:0", "out_celeb_face:0"), "outputs ['out_face_mask:0', 'out_celeb_face:0']"),
    ],
)
def test_a_dfm_with_another_signature_is_one_line_naming_expected_and_found(
    tmp_path, capsys, sample_paths, outputs, found
):
    path = dfl_like_graph(tmp_path / "odd.dfm", morph=False, outputs=outputs)
    code = main(["live", "--model", str(path), "--source", str(sample_paths["man"])])
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if "error" in line.lower()]
    assert code == 1 and len(errors) == 1 and "Traceback" not in "".join(err), err
    assert errors[0].startswith("swapcam live: error:")
    assert (
        "is not a DeepFaceLab .dfm face model: expected float32 inputs [in_face:0 (N, R, R, 3)]" in errors[0]
    )
    assert (
        "out_face_mask:0, out_celeb_face:0, out_celeb_face_mask:0] in this order" in errors[0]
        and found in errors[0]
    )


F32, F16 = "tensor(float)", "tensor(float16)"


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ([("in_face:0", ["N", 96, 96, 3], F32)], None),
        ([("in_face:0", [None, 640, 640, 3], F32)], None),
        ([("in_face:0", [2, 224, 224, 3], F32), ("morph_value:0", [1], F32)], None),
        ([("face", ["N", 3, 96, 96], F32)], "it has inputs ['face']"),
        (
            [("in_face:0", ["N", 3, 96, 96], F32)],
            "of shape (N, R, R, 3) with a fixed R, it has ('N', 3, 96, 96)",
        ),
        ([("in_face:0", ["N", "h", "w", 3], F32)], "with a fixed R"),
        ([("in_face:0", ["N", 768, 768, 3], F32)], "expected a resolution of 64..640 px, it has 768"),
        ([("in_face:0", ["N", 96, 96, 3], F16)], "it has in_face:0 tensor(float16) ('N', 96, 96, 3)"),
        (
            [("in_face:0", ["N", 96, 96, 3], F32), ("morph_value:0", [2], F32)],
            "morph_value:0 tensor(float) (2,)",
        ),
        (
            [("morph_value:0", [1], F32), ("in_face:0", ["N", 96, 96, 3], F32)],
            "it has inputs ['morph_value:0', 'in_face:0']",
        ),
    ],
)
def test_signature_reading(inputs, message):
    outputs = ["out_face_mask:0", "out_celeb_face:0", "out_celeb_face_mask:0"]
    if message is None:
        signature = read_signature(inputs, outputs, "m.dfm")
        assert signature.resolution == inputs[0][1][1] and signature.morph == (len(inputs) == 2)
        batch = inputs[0][1][0]
        assert signature.fixed_batch == (batch if isinstance(batch, int) else None)
    else:
        with pytest.raises(SwapcamError, match=re.escape(message)):
            read_signature(inputs, outputs, "m.dfm")
