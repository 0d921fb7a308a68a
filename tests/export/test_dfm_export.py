"""``swapcam export dfm`` and ``.dfm`` models in ``swapcam live``.

The signature is checked against what DeepFaceLab writes and DeepFaceLive reads: DeepFaceLab
``models/Model_SAEHD/Model.py`` ``export_dfm`` (placeholder ``in_face`` (None, R, R, 3) float32 NHWC fed
with BGR faces in [0, 1]; outputs named ``out_face_mask``, ``out_celeb_face``, ``out_celeb_face_mask``,
transposed to NHWC; tf2onnx with ``input_names=['in_face:0']`` and ``output_names`` in that order) and
DeepFaceLive ``modelhub/DFLive/DFMModel.py`` (``inputs[0].shape[1:3]`` is the resolution;
``out_face_mask, out_celeb, out_celeb_mask = sess.run(None, {'in_face:0': img})``, by position).
Both read at DeepFaceLab 46fc239 and DeepFaceLive fc7b787.
"""

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from export.dfm_export import check_alignment, export_dfm
from export.onnx_export import export_onnx
from stream.align import DFLIVE, AlignSpec, align_face
from stream.backends import choose_backend, open_backend
from stream.cli import main
from stream.contract import ModelInfo
from stream.errors import SwapcamError
from stream.extract import ExtractOptions, extract
from stream.landmarks import FaceLandmarker
from stream.media import read_video

DFM_OUTPUTS = ["out_face_mask:0", "out_celeb_face:0", "out_celeb_face_mask:0"]


@pytest.fixture(scope="module")
def dflive_run(sample_paths: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lite model at 64 px trained for 3 steps on sample faces extracted with DeepFaceLive's alignment."""
    from trained.session import TrainOptions
    from trained.train import train

    root = tmp_path_factory.mktemp("dflive")
    options = ExtractOptions(spec=AlignSpec("whole_face", 96, DFLIVE.coverage[1], DFLIVE.template), every=6)
    for name, path in sample_paths.items():
        extract([path], root / name, options, progress=False)
    train(
        root / "woman", root / "man", root / "run", TrainOptions("lite", 64, batch=4, steps=3), progress=False
    )
    return root / "run"


@pytest.fixture(scope="module")
def dflive_models(dflive_run: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("dflive-models")
    paths = {"dfm": folder / "Man.dfm", "onnx": folder / "man.onnx"}
    export_dfm(dflive_run, paths["dfm"])
    export_onnx(dflive_run, paths["onnx"])
    return paths


def test_the_dfm_has_exactly_the_signature_deepfacelive_loads(dflive_models):
    graph = onnx.load(str(dflive_models["dfm"]))
    assert graph.ir_version <= 9 and graph.opset_import[0].version <= 19  # ONNX Runtime 1.15 in DeepFaceLive

    def described(values):
        return [
            (
                v.name,
                v.type.tensor_type.elem_type,
                [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim],
            )
            for v in values
        ]

    assert described(graph.graph.input) == [("in_face:0", onnx.TensorProto.FLOAT, ["batch", 64, 64, 3])]
    assert described(graph.graph.output) == [
        ("out_face_mask:0", onnx.TensorProto.FLOAT, ["batch", 64, 64, 1]),
        ("out_celeb_face:0", onnx.TensorProto.FLOAT, ["batch", 64, 64, 3]),
        ("out_celeb_face_mask:0", onnx.TensorProto.FLOAT, ["batch", 64, 64, 1]),
    ]
    # as DeepFaceLive's loader does it: input by name, outputs by position
    session = ort.InferenceSession(str(dflive_models["dfm"]), providers=["CPUExecutionProvider"])
    assert "in_face" in session.get_inputs()[0].name and session.get_inputs()[0].shape[1:3] == [64, 64]
    face = np.random.default_rng(0).random((2, 64, 64, 3), dtype=np.float32)
    face_mask, celeb, celeb_mask = session.run(None, {"in_face:0": face})
    assert (face_mask.shape, celeb.shape, celeb_mask.shape) == (
        (2, 64, 64, 1),
        (2, 64, 64, 3),
        (2, 64, 64, 1),
    )
    metadata = {p.key: p.value for p in graph.metadata_props}
    assert metadata["channels"] == "BGR" and metadata["template"] == DFLIVE.template


@pytest.fixture(scope="module")
def dflive_crops(woman_frames) -> np.ndarray:
    """Real frames of A cut the DeepFaceLive way at the models' resolution: what `swapcam live` feeds them."""
    spec = AlignSpec("whole_face", 64, DFLIVE.coverage[1], DFLIVE.template)
    with FaceLandmarker("image") as landmarker:
        return np.stack([align_face(f, landmarker.detect(f)[0].landmarks, spec).crop for f in woman_frames])


def test_the_dfm_swaps_faces_like_the_onnx_export_of_the_same_run(dflive_models, dflive_crops):
    backends = {
        kind: open_backend(path, choose_backend(path), lambda m: None) for kind, path in dflive_models.items()
    }
    assert backends["dfm"].info.align_spec == backends["onnx"].info.align_spec  # the same crops
    (dfm_faces, dfm_masks), (onnx_faces, onnx_masks) = (
        backends[k].swap(dflive_crops) for k in ("dfm", "onnx")
    )
    for backend in backends.values():
        backend.close()
    assert dfm_faces.shape == onnx_faces.shape == (len(dflive_crops), 64, 64, 3)
    np.testing.assert_allclose(dfm_faces, onnx_faces, atol=1e-5)  # BGR both, fp32 tolerance
    # the .dfm's mask is the swapped face's mask (the .onnx's) times the input face's own mask
    session = ort.InferenceSession(str(dflive_models["dfm"]), providers=["CPUExecutionProvider"])
    face_mask = session.run(["out_face_mask:0"], {"in_face:0": dflive_crops.astype(np.float32) / 255})[0]
    np.testing.assert_allclose(dfm_masks, onnx_masks * face_mask[..., 0], atol=1e-5)
    assert face_mask.std() > 0


def test_exporting_a_model_of_another_alignment_is_refused_unless_forced(small_run, tmp_path, capsys):
    with pytest.raises(SwapcamError, match="swapcam extract --align dflive"):
        export_dfm(small_run, tmp_path / "x.dfm")
    assert not (tmp_path / "x.dfm").exists()
    code = main(["export", "dfm", str(small_run), "--out", str(tmp_path / "x.dfm"), "--force"])
    captured = capsys.readouterr()
    assert (
        code == 0 and "warning: the model was trained on faces aligned with swapcam-fm2d-v1" in captured.err
    )
    backend = open_backend(tmp_path / "x.dfm", choose_backend(tmp_path / "x.dfm"), lambda m: None)
    assert backend.info.align_spec.template == "swapcam-fm2d-v1"  # swapcam still crops it as trained
    backend.close()


def test_export_dfm_command_reports_and_rejects_bad_output(dflive_run, tmp_path, capsys):
    assert main(["export", "dfm", str(dflive_run), "--out", str(tmp_path / "m.dfm")]) == 0
    out = capsys.readouterr().out
    assert "in_face:0 float32 (batch, 64, 64, 3) → out_face_mask:0" in out and ": ok" in out
    assert main(["export", "dfm", str(dflive_run), "--out", str(tmp_path / "m.onnx")]) == 1
    assert "--out expects a .dfm file" in capsys.readouterr().err
    assert main(["export", "dfm", str(dflive_run), "--out", str(tmp_path / "n.dfm"), "--opset", "19"]) == 1
    assert "--opset must be 12..18 for a .dfm" in capsys.readouterr().err
    assert main(["export", "verify", str(tmp_path / "m.dfm")]) == 1
    assert "swapcam doctor --model" in capsys.readouterr().err


def test_live_runs_a_dfm_end_to_end_into_a_file(dflive_models, sample_paths, tmp_path, capsys):
    out = tmp_path / "swapped.mp4"
    code = main(
        [
            "live",
            "--model",
            str(dflive_models["dfm"]),
            "--source",
            str(sample_paths["man"]),
            "--output",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    assert ".dfm 64 px, faces cropped with whole_face 64px coverage 2.2, template dflive-uni468-v1" in err
    assert "72 frames, 72 with a face" in err
    frames = [frame for _, frame in read_video(out)]
    assert len(frames) == 72 and frames[0].shape == (360, 640, 3)


@pytest.mark.parametrize(
    ("template", "coverage", "matches", "advice"),
    [
        (DFLIVE.template, 2.2, True, ""),
        (DFLIVE.template, 1.8, True, "set Face coverage to 1.8 in DeepFaceLive's face aligner (default 2.2)"),
        (DFLIVE.template, 2.25, True, "sets Face coverage in steps of 0.1"),
        ("swapcam-fm2d-v1", 1.0, False, "extract with `swapcam extract --align dflive`"),
    ],
)
def test_the_export_says_what_deepfacelive_needs_to_crop_like_the_training(
    template, coverage, matches, advice
):
    info = ModelInfo(64, "whole_face", coverage, template, "a", "b", "a2b", 3, "swapcam", "fp32")
    check = check_alignment(info)
    assert check.matches == matches and advice in check.advice and bool(check.advice) == bool(advice)
