"""What `swapcam bench` runs besides the user's files: preset models, resized clips, and their floor."""

import pytest

from bench.floor import checkpoint_cost, gpu_floor_ms
from bench.models import resized_clip, untrained_checkpoint
from bench.report import floor
from stream.capture import VideoFileSource
from stream.cli import main
from trained.checkpoint import load_checkpoint, load_model
from trained.demo import CHECKPOINT
from trained.model import SwapDirection, count_flops


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SWAPCAM_CACHE", str(tmp_path))
    return tmp_path


def test_an_untrained_preset_checkpoint_loads_with_the_demo_labels_and_fresh_weights(cache):
    path = untrained_checkpoint("df128", CHECKPOINT)
    assert path.parent == cache / "bench" and untrained_checkpoint("df128", CHECKPOINT) == path
    model, state = load_model(path)
    demo = load_checkpoint(CHECKPOINT)
    assert state["step"] == 0 and state["labels"] == demo["labels"]
    assert state["alignment"] == demo["alignment"]
    assert state["model_config"]["resolution"] == 128 and state["model_config"]["encoder_dims"] == 64
    cost = checkpoint_cost(path, 2)
    assert cost["flops_per_face"] == count_flops(SwapDirection(model, "b"), 128) > 1e9
    assert cost["weight_bytes"] == 2 * sum(p.numel() for p in SwapDirection(model, "b").parameters())


def test_the_gpu_floor_is_the_longer_of_compute_and_weight_traffic():
    cost = {"flops_per_face": 2_000_000_000, "weight_bytes": 40_000_000}
    assert gpu_floor_ms(cost, {"fp16_tflops": 1000.0, "copy_gbps": 4000.0}) == pytest.approx(0.01)  # bytes
    assert gpu_floor_ms(cost, {"fp16_tflops": 100.0, "copy_gbps": 4000.0}) == pytest.approx(0.02)  # FLOPs
    found = floor(cost, [{"batch": 1, "p50_ms": 0.5}], [30.0], {"fp16_tflops": 100.0, "copy_gbps": 4000.0})
    assert found["gpu_floor_ms"] == pytest.approx(0.02) and found["achieved_gflops"] == 4000.0
    assert "gpu_floor_ms" not in floor(cost, [], [30.0])


def test_a_resized_clip_has_every_frame_at_the_new_size(cache, sample_paths):
    path = resized_clip(sample_paths["man"], 320, 176)
    with VideoFileSource(path) as video, VideoFileSource(sample_paths["man"]) as original:
        assert video.size == (320, 176) and video.frame_count == original.frame_count
        assert video.read().shape == (176, 320, 3)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--frame-size", "1280by720"], "--frame-size expects WIDTHxHEIGHT such as 1280x720, got '1280by"),
        (["--preset", "huge"], "--preset must be one of lite, df128, df256, got 'huge'"),
        (["--preset", "lite", "--model", "x.onnx"], "--preset and --model each choose the model"),
    ],
)
def test_bad_bench_options_are_one_line_errors(cache, capsys, args, message):
    assert main(["bench", "--quick", *args]) != 0
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
