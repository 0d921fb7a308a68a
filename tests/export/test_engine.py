"""The TensorRT engine path. Building needs TensorRT and an NVIDIA GPU; without them the checks that can
run here do (errors, sidecar comparison) and the rest skip with the reason."""

import json

import pytest

from export.engine import EngineOptions, build_engine
from stream.backends.engine_file import Target, check_engine, require_tensorrt, sidecar_path
from stream.cli import main
from stream.errors import SwapcamError


def tensorrt_missing_reason() -> str | None:
    try:
        require_tensorrt()
    except SwapcamError as error:
        return str(error)
    import torch

    return None if torch.cuda.is_available() else "no CUDA GPU"


MISSING = tensorrt_missing_reason()


@pytest.mark.skipif(MISSING is None, reason="TensorRT is installed here")
def test_without_tensorrt_the_engine_command_says_what_to_install(exported, tmp_path, capsys):
    code = main(["export", "engine", str(exported["fp32"]), "--out", str(tmp_path / "m.engine")])
    err = capsys.readouterr().err
    assert code == 1 and "TensorRT is not installed" in err and "pip install tensorrt" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "m.engine").exists()


def test_an_engine_for_another_gpu_is_refused_with_the_rebuild_command(tmp_path):
    engine = tmp_path / "m.engine"
    engine.write_bytes(b"engine")
    recorded = {
        "tensorrt": "10.13.0",
        "gpu": "NVIDIA H100 80GB HBM3",
        "compute_capability": "9.0",
        "precision": "fp16",
    }
    sidecar_path(engine).write_text(json.dumps(recorded))
    here = Target(tensorrt="10.13.0", gpu="NVIDIA GeForce RTX 4090", compute_capability="8.9")
    with pytest.raises(SwapcamError) as error:
        check_engine(engine, here)
    message = str(error.value)
    assert "gpu 'NVIDIA H100 80GB HBM3' (this machine: 'NVIDIA GeForce RTX 4090')" in message
    assert "compute_capability '9.0'" in message and "tensorrt" not in message.split("Rebuild", maxsplit=1)[0]
    assert "swapcam export engine MODEL.onnx --out" in message and message.endswith("--fp16")
    assert (
        check_engine(engine, Target(**{k: recorded[k] for k in ("tensorrt", "gpu", "compute_capability")}))
        == recorded
    )


def test_an_engine_without_its_sidecar_is_refused(tmp_path):
    (tmp_path / "m.engine").write_bytes(b"engine")
    with pytest.raises(SwapcamError, match="sidecar"):
        check_engine(tmp_path / "m.engine", Target("10.13.0", "gpu", "9.0"))


@pytest.mark.parametrize("kwargs", [{"max_batch": 0}, {"workspace_mb": 0}, {"opt_level": 6}])
def test_bad_engine_options_are_rejected(kwargs):
    with pytest.raises(SwapcamError):
        EngineOptions(**kwargs)


@pytest.mark.skipif(MISSING is not None, reason=f"needs TensorRT and an NVIDIA GPU: {MISSING}")
def test_build_twice_is_a_cache_hit_and_the_sidecar_matches_this_gpu(exported, tmp_path, monkeypatch):
    monkeypatch.setenv("SWAPCAM_CACHE", str(tmp_path / "cache"))
    first = build_engine(exported["fp16"], tmp_path / "a.engine", EngineOptions(max_batch=2))
    assert not first.cached
    second = build_engine(exported["fp16"], tmp_path / "b.engine", EngineOptions(max_batch=2))
    assert second.cached and (tmp_path / "a.engine").read_bytes() == (tmp_path / "b.engine").read_bytes()
    recorded = json.loads(first.sidecar.read_text())
    assert recorded["precision"] == "fp16" and recorded["inputs"]["face"]["max"] == [2, 3, 64, 64]
