"""The backend protocol, registry and choice, and the two backends that run here (ONNX Runtime, torch CPU)."""

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from stream.align import AlignSpec, align_face
from stream.backends import Choice, choose_backend, from_model_output, open_backend, to_model_input
from stream.errors import SwapcamError
from stream.landmarks import FaceLandmarker


@pytest.fixture(scope="module")
def real_crops(woman_frames) -> dict[int, np.ndarray]:
    """Aligned crops of real frames at 64 and 96 px, three faces: a batch like a three-person frame."""
    with FaceLandmarker(mode="image") as landmarker:
        landmarks = [landmarker.detect(frame)[0].landmarks for frame in woman_frames[:3]]
    return {
        size: np.stack(
            [
                align_face(f, p, AlignSpec(size=size)).crop
                for f, p in zip(woman_frames, landmarks, strict=False)
            ]
        )
        for size in (64, 96)
    }


def test_model_input_is_planar_rgb_in_unit_range_and_output_comes_back_as_bgr():
    crops = np.zeros((2, 4, 4, 3), np.uint8)
    crops[..., 0] = 255  # blue in BGR
    planar = to_model_input(crops)
    assert planar.shape == (2, 3, 4, 4) and planar.dtype == np.float32 and planar.flags.c_contiguous
    assert planar[:, 2].min() == 1.0 and planar[:, :2].max() == 0.0  # blue is the last RGB plane
    faces, masks = from_model_output(planar, np.full((2, 1, 4, 4), 1.5, np.float32))
    assert faces.shape == (2, 4, 4, 3) and np.array_equal(faces * 255, crops.astype(np.float32))
    assert masks.shape == (2, 4, 4) and masks.max() == 1.0  # clipped to [0, 1]
    assert to_model_input(crops, np.float16).dtype == np.float16
    with pytest.raises(ValueError, match="uint8"):
        to_model_input(crops.astype(np.float32))


def test_the_choice_follows_the_model_file(exported, small_run, tmp_path):
    assert choose_backend(exported["fp32"]).name == "onnxruntime"
    assert choose_backend(small_run).name == "torch"
    assert choose_backend(exported["fp32"], "onnxruntime") == Choice("onnxruntime", "asked for")
    (tmp_path / "notes.txt").write_text("hello")
    for model, backend, message in [
        (exported["fp32"], "torch", "the torch backend runs checkpoints"),
        (tmp_path / "notes.txt", "auto", "not a model file swapcam runs"),
        (tmp_path / "missing.onnx", "auto", "does not exist"),
        (exported["fp32"], "tflite", "--backend must be one of"),
    ]:
        with pytest.raises(SwapcamError, match=message):
            choose_backend(model, backend)


def test_an_engine_without_tensorrt_is_a_one_line_error_naming_the_install(tmp_path):
    engine = tmp_path / "model.engine"
    engine.write_bytes(b"not really")
    with pytest.raises(SwapcamError, match="pip install tensorrt") as error:
        choose_backend(engine)
    assert "\n" not in str(error.value)


def ort_reference(model: Path, crops: np.ndarray, dtype: type) -> tuple[np.ndarray, np.ndarray]:
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    swapped, mask = session.run(["swapped", "mask"], {"face": to_model_input(crops, dtype)})
    return from_model_output(swapped, mask)


@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_onnxruntime_backend_matches_a_plain_session_for_a_batch_of_faces(exported, real_crops, precision):
    crops = real_crops[64]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no GPU-fallback warning on a CPU-only onnxruntime
        backend = open_backend(exported[precision], choose_backend(exported[precision]), lambda m: None)
    try:
        assert backend.info.resolution == 64 and backend.info.precision == precision
        faces, masks = backend.swap(crops)
        one_by_one = [backend.swap(crops[i : i + 1]) for i in range(len(crops))]
    finally:
        backend.close()
    expected_faces, expected_masks = ort_reference(
        exported[precision], crops, np.float16 if precision == "fp16" else np.float32
    )
    assert faces.shape == (3, 64, 64, 3) and masks.shape == (3, 64, 64) and faces.dtype == np.float32
    np.testing.assert_allclose(faces, expected_faces, atol=1e-6)
    np.testing.assert_allclose(masks, expected_masks, atol=1e-6)
    tolerance = 1e-5 if precision == "fp32" else 2e-3
    np.testing.assert_allclose(np.concatenate([f for f, _ in one_by_one]), faces, atol=tolerance)


def test_torch_backend_on_the_cpu_agrees_with_the_exported_model(small_run, exported, real_crops):
    backend = open_backend(small_run, choose_backend(small_run, "torch"), lambda m: None)
    try:
        faces, masks = backend.swap(real_crops[64])
        assert backend.info.precision == "fp32" and backend.describe().startswith("torch (cpu")
    finally:
        backend.close()
    expected_faces, expected_masks = ort_reference(exported["fp32"], real_crops[64], np.float32)
    np.testing.assert_allclose(faces, expected_faces, atol=1e-4)
    np.testing.assert_allclose(masks, expected_masks, atol=1e-4)


def test_files_that_are_not_swap_models_are_refused(exported, tmp_path):
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x00not a protobuf" * 10)
    with pytest.raises(SwapcamError, match="is not a loadable ONNX model"):
        open_backend(garbage, choose_backend(garbage), lambda m: None)
    bare = onnx.load(str(exported["fp32"]))
    del bare.metadata_props[:]
    stripped = tmp_path / "stripped.onnx"
    onnx.save(bare, str(stripped))
    with pytest.raises(SwapcamError, match="is not a swapcam model: its metadata lacks"):
        open_backend(stripped, choose_backend(stripped), lambda m: None)


def test_running_an_onnx_model_never_imports_torch(exported, real_crops, tmp_path):
    np.save(tmp_path / "crops.npy", real_crops[64])
    script = f"""
import sys, numpy as np
from pathlib import Path
from stream.backends import choose_backend, open_backend
model = Path({str(exported["fp32"])!r})
backend = open_backend(model, choose_backend(model), print)
backend.swap(np.load({str(tmp_path / "crops.npy")!r}))
backend.close()
import stream.live, stream.commands.live
assert "torch" not in sys.modules, "torch was imported"
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_an_engines_tensors_are_described_for_the_contract_check():
    """TensorRT is not installed here: a stand-in with TensorRT 10's I/O tensor API and its -1 for
    dynamic dimensions; the same contract check as ONNX models then refuses an NHWC input."""
    from types import SimpleNamespace

    from stream.backends.trt import engine_specs
    from stream.contract import ModelInfo, check_io

    tensors = {
        "face": ("in", (-1, 96, 96, 3)),
        "swapped": ("out", (-1, 3, 96, 96)),
        "mask": ("out", (-1, 1, 96, 96)),
    }
    engine = SimpleNamespace(
        num_io_tensors=3,
        get_tensor_name=lambda i: list(tensors)[i],
        get_tensor_dtype=lambda name: "f32",
        get_tensor_shape=lambda name: tensors[name][1],
        get_tensor_mode=lambda name: tensors[name][0],
    )
    trt = SimpleNamespace(nptype=lambda kind: np.float32, TensorIOMode=SimpleNamespace(INPUT="in"))
    inputs, outputs = engine_specs(engine, trt)
    assert inputs == [("face", "float32", ("?", "96", "96", "3"))]
    assert outputs[1] == ("mask", "float32", ("?", "1", "96", "96"))
    info = ModelInfo(96, "whole_face", 1.0, "swapcam-fm2d-v1", "a", "b", "a2b", 1, "swapcam", "fp32")
    with pytest.raises(SwapcamError, match="does not have the swapcam I/O"):
        check_io(inputs, outputs, info, "m.engine")
    check_io([("face", "float32", ("?", "3", "96", "96"))], outputs, info, "m.engine")  # NCHW passes


@pytest.mark.parametrize("kind", ["onnx", "dfm", "checkpoint"])
def test_every_backend_is_an_owned_resource_that_refuses_use_after_close(kind, exported, small_run, tmp_path):
    from tests.stream.backends.test_dfm import dfl_like_graph

    models = {"onnx": exported["fp32"], "checkpoint": small_run}
    model = dfl_like_graph(tmp_path / "model.dfm") if kind == "dfm" else models[kind]
    with open_backend(model, choose_backend(model), lambda message: None) as backend:
        size = backend.info.resolution
        crops = np.zeros((1, size, size, 3), np.uint8)
        backend.swap(crops)
    with pytest.raises(RuntimeError, match="is closed"):
        backend.swap(crops)
    backend.close()  # a second close does nothing


def test_the_landmarker_is_an_owned_resource_too(woman_frames):
    with FaceLandmarker("image") as landmarker:
        assert landmarker.detect(woman_frames[0])
    with pytest.raises(RuntimeError, match="FaceLandmarker is closed"):
        landmarker.detect(woman_frames[0])
    landmarker.close()
