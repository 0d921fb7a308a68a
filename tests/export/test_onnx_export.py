import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from export.onnx_export import export_onnx
from export.parity import sample_faces
from export.verify import verify_onnx
from stream.cli import main
from stream.contract import REQUIRED_METADATA, parse_metadata
from stream.errors import SwapcamError
from trained.checkpoint import load_model
from trained.model import SwapDirection


def metadata_of(path) -> dict[str, str]:
    return {p.key: p.value for p in onnx.load(str(path)).metadata_props}


def test_exported_files_carry_the_complete_contract(exported, small_run):
    for precision, path in exported.items():
        metadata = metadata_of(path)
        assert set(REQUIRED_METADATA) <= set(metadata)
        info = parse_metadata(metadata, str(path))
        assert (info.resolution, info.face_type, info.precision) == (64, "whole_face", precision)
        assert (info.identity_a, info.identity_b, info.direction, info.training_steps) == (
            "woman",
            "man",
            "a2b",
            3,
        )
        assert info.template == "swapcam-fm2d-v1" and metadata["channels"] == "RGB"


def test_onnx_runtime_matches_pytorch_on_real_aligned_faces_at_any_batch(exported, small_run):
    model, _ = load_model(small_run)
    info = parse_metadata(metadata_of(exported["fp32"]), "model")
    faces = sample_faces(info.align_spec, per_clip=3)
    assert faces.shape == (6, 3, 64, 64) and faces.std() > 0.1  # real faces, not noise or zeros
    session = ort.InferenceSession(str(exported["fp32"]), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = [t.numpy() for t in SwapDirection(model, "b")(torch.from_numpy(faces))]
    for batch in (1, 6):
        swapped, mask = session.run(["swapped", "mask"], {"face": faces[:batch]})
        assert swapped.shape == (batch, 3, 64, 64) and mask.shape == (batch, 1, 64, 64)
        np.testing.assert_allclose(swapped, expected[0][:batch], atol=1e-4)
        np.testing.assert_allclose(mask, expected[1][:batch], atol=1e-4)


def test_fp16_export_runs_in_half_precision_within_tolerance(exported, small_run):
    report = verify_onnx(exported["fp16"], small_run)
    assert report.signature.inputs[0][1] == "float16"
    assert report.parity is not None and report.parity.passed and report.parity.tolerance == 2e-2


def test_verify_prints_metadata_signature_and_providers(exported, small_run, capsys):
    assert main(["export", "verify", str(exported["fp32"]), "--run", str(small_run)]) == 0
    out = capsys.readouterr().out
    assert "template: swapcam-fm2d-v1" in out and "identity_b: man" in out
    assert "face float32 (batch, 3, 64, 64) → swapped float32 (batch, 3, 64, 64)" in out
    assert "ONNX Runtime CPUExecutionProvider: ok" in out and ": ok" in out.splitlines()[-1]


def test_export_onnx_command_reports_each_step(small_run, tmp_path, capsys):
    assert (
        main(["export", "onnx", str(small_run), "--out", str(tmp_path / "m.onnx"), "--direction", "b2a"]) == 0
    )
    out = capsys.readouterr().out
    assert "onnx.checker: ok" in out and "parity on 16 real faces" in out and "wrote" in out
    assert metadata_of(tmp_path / "m.onnx")["direction"] == "b2a"


def test_a_failed_parity_check_writes_nothing(small_run, tmp_path, monkeypatch):
    from export import onnx_export

    original = onnx_export.onnx_outputs

    def drifted(model, faces, dtype):
        return {name: value + 0.01 for name, value in original(model, faces, dtype).items()}

    monkeypatch.setattr(onnx_export, "onnx_outputs", drifted)
    with pytest.raises(SwapcamError, match="export failed, nothing written"):
        export_onnx(small_run, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def run_cli(capsys, *args) -> tuple[int, str]:
    code = main(["export", *map(str, args)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def test_bad_inputs_are_one_line_errors(small_run, exported, tmp_path, capsys):
    (tmp_path / "empty_run").mkdir()
    (tmp_path / "broken.pt").write_bytes(b"\x00" * 64)
    (tmp_path / "notes.onnx").write_text("not a graph")
    plain = onnx.load(str(exported["fp32"]))
    del plain.metadata_props[:]
    onnx.save(plain, str(tmp_path / "plain.onnx"))
    renamed = onnx.load(str(exported["fp32"]))
    renamed.graph.output[1].name = "alpha"
    onnx.save(renamed, str(tmp_path / "renamed.onnx"))
    (tmp_path / "file").write_text("x")
    cases = [
        (["onnx", tmp_path / "empty_run", "--out", tmp_path / "a.onnx"], "has no checkpoints"),
        (
            ["onnx", tmp_path / "broken.pt", "--out", tmp_path / "a.onnx"],
            "damaged or not a swapcam checkpoint",
        ),
        (["onnx", small_run, "--out", tmp_path / "file" / "a.onnx"], "is a file, not a folder"),
        (["verify", tmp_path / "missing.onnx"], "no such file"),
        (["verify", tmp_path / "notes.onnx"], "is not an ONNX file"),
        (["verify", tmp_path / "plain.onnx"], "is not a swapcam model: its metadata lacks"),
        (["verify", tmp_path / "renamed.onnx"], "does not have the swapcam I/O"),
    ]
    for args, message in cases:
        code, err = run_cli(capsys, *args)
        assert code == 1 and message in err and len(err.strip().splitlines()) == 1, (args, err)
