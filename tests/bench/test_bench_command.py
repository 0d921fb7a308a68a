"""`swapcam bench --quick` end to end, and the pieces of the report that are pure functions."""

import json
from collections.abc import Mapping
from pathlib import Path

import cv2
import numpy as np
import pytest

from bench.end_to_end import EndToEndRun, ratios
from bench.floor import onnx_cost
from bench.report import REQUIRED, SCHEMA, BenchReport, ModelDescription, SourceDescription, check_report
from bench.sequential import paste_full_frame
from bench.timing import MAX_SAMPLES, Budget, measure, thinned
from stream.cli import main
from stream.metrics import LatencyStats, RunFigures
from stream.packet import Face

STAT_KEYS = ("calls", "min_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms", "samples_ms")


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory, demo_model):
    out = tmp_path_factory.mktemp("bench")
    assert main(["bench", "--quick", "--out", str(out)]) == 0
    return out


@pytest.mark.slow
def test_quick_bench_writes_a_schema_valid_json_a_markdown_report_and_three_real_plots(quick_report):
    report = json.loads((quick_report / "report.json").read_text())
    check_report(report)
    assert report["schema"] == SCHEMA and report["quick"] is True
    versions = report["machine"]["versions"]
    assert report["machine"]["cpu"] and {"python", "torch", "onnxruntime", "mediapipe", "numba"} <= set(
        versions
    )
    assert report["model"]["flops_per_face"] > 1e8 and report["model"]["resolution"] == 96
    backends = {(e["backend"].split(" ")[0], e["batch"]) for e in report["inference"]}
    assert {("onnxruntime", 1), ("onnxruntime", 2), ("torch", 1), ("torch", 2)} <= backends
    for entry in report["inference"] + report["stages"]:
        assert all(key in entry for key in STAT_KEYS) and len(entry["samples_ms"]) == len(
            thinned(np.zeros(entry["calls"]))
        )
        assert entry["min_ms"] <= entry["p50_ms"] <= entry["p99_ms"] <= entry["max_ms"]
    assert [s["stage"] for s in report["stages"]][:4] == ["landmarks", "align", "swap", "blend"]
    runs = {(r["mode"], r["pace_fps"]) for r in report["end_to_end"]}
    modes = ("pipelined", "pipelined, no hand occlusion", "sequential")
    assert runs == {(mode, pace) for mode in modes for pace in (None, 30.0, 60.0)}
    for run in report["end_to_end"]:
        assert run["frames_delivered"] == len(run["timeline"]) > 0 and run["latency_ms"]["p50"] > 0
    assert report["ratios"]["throughput_pipelined_over_sequential"] > 0
    assert report["floor"]["frame_interval_ms"] == {"30": 33.33, "60": 16.67}
    markdown = (quick_report / "report.md").read_text()
    assert "| pipelined, paced at 30 fps |" in markdown and "## Physical floor" in markdown
    for name in ("inference-latency.png", "stages.png", "timeline.png"):
        data = (quick_report / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert image.shape[1] >= 600 and image.std() > 10


def test_a_report_missing_fields_is_rejected():
    with pytest.raises(ValueError, match="missing"):
        check_report({"schema": SCHEMA, "machine": {}})


def test_bad_backends_are_one_line_errors(capsys):
    assert main(["bench", "--backends", "onnxruntime,tflite"]) == 1
    assert "--backends expects a subset" in capsys.readouterr().err


def test_onnx_flops_match_torchs_flop_counter_for_the_demo_model(demo_model):
    from trained.checkpoint import load_model
    from trained.demo import CHECKPOINT
    from trained.model import SwapDirection, count_flops

    model, _ = load_model(CHECKPOINT)
    module = SwapDirection(model, "b")
    cost = onnx_cost(demo_model)
    assert cost["flops_per_face"] == count_flops(module, 96)
    assert cost["weight_bytes"] == sum(p.numel() * 4 for p in module.parameters())


def figures(fps: float, p50: float) -> RunFigures:
    """The figures of a run of ten frames, each with a face."""
    return RunFigures(10, 10, 0, 10, (), 10, fps, LatencyStats(p50=p50), {})


def test_ratios_compare_pipelined_with_sequential_runs():
    def run(mode, pace, fps, p50):
        return EndToEndRun(mode, pace, None, figures(fps, p50), [])

    runs = [run("pipelined", None, 90, 80), run("sequential", None, 45, 25), run("pipelined", 30.0, 30, 15),
            run("sequential", 30.0, 30, 30)]  # fmt: skip
    assert ratios(runs) == {
        "throughput_pipelined_over_sequential": 2.0,
        "latency_p50_sequential_over_pipelined_at_30fps": 2.0,
    }


def run_of(entry: Mapping) -> EndToEndRun:
    """The typed run of an ``end_to_end`` entry of a report.json."""
    stages = {stage: {kind: LatencyStats(**stats) for kind, stats in kinds.items()}
              for stage, kinds in entry["stages_ms"].items()}  # fmt: skip
    counts = ("frames_read", "frames_delivered", "frames_dropped", "frames_with_faces", "faces", "fps")
    run_figures = RunFigures(
        **{key: entry[key] for key in counts},
        frames_without_faces=tuple(entry["frames_without_faces"]),
        latency=LatencyStats(**entry["latency_ms"]),
        stages=stages,
    )
    return EndToEndRun(entry["mode"], entry["pace_fps"], entry.get("backend"), run_figures, entry["timeline"])


def report_of(document: Mapping) -> BenchReport:
    """The typed report of a report.json."""
    pieces = ("created", "quick", "machine", "inference", "inference_notes", "stages", "ratios", "floor")
    return BenchReport(**{key: document[key] for key in pieces}, model=ModelDescription(**document["model"]),
                       source=SourceDescription(**document["source"]),
                       end_to_end=[run_of(entry) for entry in document["end_to_end"]])  # fmt: skip


def test_an_end_to_end_run_keeps_what_ratios_reads_through_its_json():
    for backend in ("onnxruntime (CPUExecutionProvider, fp32)", None):
        run = EndToEndRun(
            "pipelined", 30.0, backend, figures(29.5, 15.25), [[0, 0.0, 14.5], [1, 0.0333, 15.0]]
        )
        document = json.loads(json.dumps(run.to_json()))
        assert (document["mode"], document["pace_fps"]) == ("pipelined", 30.0)
        assert (document["fps"], document["latency_ms"]["p50"]) == (29.5, 15.25)
        assert ("backend" in document) == (backend is not None)
        assert run_of(document) == run


@pytest.mark.parametrize("saved", ["cpu", "gpu-demo", "gpu-df256-720p"])
def test_a_typed_report_writes_the_saved_report_json_byte_for_byte(saved):
    text = Path(f"bench/results/{saved}/report.json").read_text()
    report = report_of(json.loads(text))
    written = report.to_json()
    assert tuple(written) == REQUIRED and written["schema"] == SCHEMA
    check_report(written)
    assert json.dumps(written, separators=(",", ":")) + "\n" == text
    assert ratios(report.end_to_end) == written["ratios"]


def test_measure_rotates_calls_and_honours_the_budget():
    seen = []
    timed = measure("x", seen.append, Budget(warmup_s=0.0, seconds=0.0, calls=50))
    assert timed.calls == 50 == len(timed.samples_ms) and seen == list(range(50))


def test_full_frame_paste_back_puts_the_face_where_the_crop_came_from():
    frame = np.zeros((100, 120, 3), np.uint8)
    matrix = np.array([[1.0, 0.0, -10.0], [0.0, 1.0, -20.0]])  # the crop starts at (10, 20)
    face = Face(landmarks=np.zeros((468, 2), np.float32), matrix=matrix, crop=np.zeros((32, 32, 3), np.uint8))
    swapped = np.ones((32, 32, 3), np.float32)
    mask = np.zeros((32, 32), np.float32)
    mask[4:28, 4:28] = 1.0
    out = paste_full_frame(frame, face, swapped, mask)
    assert (out[24:48, 14:38] == 255).all() and out[:20].max() == 0 and out[:, :10].max() == 0


def test_samples_are_thinned_evenly_to_the_cap():
    ms = np.arange(5000, dtype=np.float64)
    kept = thinned(ms)
    assert len(kept) <= MAX_SAMPLES and kept[0] == 0 and kept[1] == 3 and kept == tuple(sorted(kept))
    assert thinned(np.arange(10.0)) == tuple(float(v) for v in range(10))


def test_glass_without_a_camera_or_display_is_a_one_line_error(capsys):
    assert main(["bench", "glass", "--camera", "99", "--seconds", "1"]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if "swapcam bench: error:" in line]
    assert len(errors) == 1


def test_a_source_that_is_not_a_video_file_is_a_one_line_error(tmp_path, capsys):
    assert main(["bench", "--quick", "--source", str(tmp_path / "missing.mp4")]) == 1
    assert "--source expects a video file" in capsys.readouterr().err


def test_the_markdown_tables_carry_units_and_a_losing_ratio_says_so():
    from bench.report import _ratio_line, markdown

    report = json.loads(Path("bench/results/cpu/report.json").read_text())
    text = markdown(report)
    assert "| stage | calls | min ms | p50 ms | p95 ms | p99 ms | max ms |" in text
    assert "| backend | batch | calls | min ms | p50 ms |" in text
    assert _ratio_line("throughput_pipelined_over_sequential", 1.59) == (
        "- throughput pipelined over sequential: **1.59x**"
    )
    assert "(below 1: the sequential baseline did better in this run)" in _ratio_line("x", 0.8)


def test_the_terminal_headline_gives_throughput_paced_latency_and_inference():
    from bench.report import headline

    lines = headline(json.loads(Path("bench/results/cpu/report.json").read_text()))
    assert lines[0].startswith("as fast as possible: ") and lines[0].endswith(" fps")
    assert any(line.startswith("paced at 30 fps: capture→sink p50 ") for line in lines)
    assert any(line.startswith("inference onnxruntime (CPUExecutionProvider, fp32): p50 ") for line in lines)


@pytest.mark.parametrize("size", [96, 128, 256])
def test_the_opencv_mask_alternative_timed_beside_the_numba_one_computes_the_same(size):
    from bench.stage_runs import opencv_alpha
    from stream.blend import prepare_alpha
    from stream.blend_options import BlendOptions
    from tests.stream.test_blend import fake_face

    mask = fake_face(size, seed=4)["mask"].astype(np.float32)
    mask[: size // 10] = 0.3
    for options in (
        BlendOptions(),
        BlendOptions(erode=0.0, feather=0.2),
        BlendOptions(erode=0.1, feather=0.0),
    ):
        np.testing.assert_allclose(opencv_alpha(mask, options), prepare_alpha(mask, options), atol=1e-6)
