import cv2
import matplotlib.pyplot as plt
import numpy as np
import pytest

from bench.plots import machine_line, stage_order, wants_log, write_plots

NAMES = ["inference-latency.png", "stages.png", "timeline.png"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def inference_run(rng: np.random.Generator, backend: str, batch: int, median_ms: float, calls: int) -> dict:
    samples = median_ms * rng.lognormal(0.0, 0.25, calls)
    low, p50, p95, p99, high = np.percentile(samples, [0, 50, 95, 99, 100]).tolist()
    return {"backend": backend, "batch": batch, "calls": calls, "min_ms": low, "p50_ms": p50, "p95_ms": p95,
            "p99_ms": p99, "max_ms": high, "samples_ms": samples.tolist()}  # fmt: skip


def end_to_end_run(rng: np.random.Generator, mode: str, pace_fps: float | None, frames: int) -> dict:
    stages = {"read": 2.0, "landmarks": 6.0, "swap": 9.0, "blend": 4.0, "sink": 1.0}
    latency = 25.0 + rng.gamma(2.0, 3.0, frames)
    p50, p95, p99, high = np.percentile(latency, [50, 95, 99, 100]).tolist()
    seconds = np.arange(frames) / (pace_fps or 45.0)
    timeline = [[i, float(t), float(ms)] for i, (t, ms) in enumerate(zip(seconds, latency, strict=True))]
    return {
        "mode": mode, "pace_fps": pace_fps, "fps": pace_fps or 45.0, "frames_delivered": frames,
        "frames_dropped": 0,
        "latency_ms": {"p50": p50, "p95": p95, "p99": p99, "max": high, "mean": float(latency.mean())},
        "stages_ms": {name: {"work": {"p50": ms, "p95": 1.5 * ms}, "wait": {"p50": 0.5, "p95": 1.0}}
                      for name, ms in reversed(stages.items())},
        "timeline": timeline,
    }  # fmt: skip


def synthetic_report(calls: int = 400, frames: int = 300) -> dict:
    rng = np.random.default_rng(0)
    return {
        "schema": "swapcam.bench/1",
        "machine": {"cpu": "Test CPU 8-core", "logical_cpus": 8, "gpu": "Test GPU 24 GB"},
        "inference": [
            inference_run(rng, "onnxruntime-cpu", 1, 12.0, calls),
            inference_run(rng, "tensorrt", 4, 3.0, calls),
        ],
        "end_to_end": [
            end_to_end_run(rng, "pipelined", 30.0, frames),
            end_to_end_run(rng, "sequential", None, frames),
        ],
    }


def empty_report() -> dict:
    return {"schema": "swapcam.bench/1", "machine": {"cpu": "Test CPU", "logical_cpus": 2, "gpu": None},
            "inference": [], "end_to_end": []}  # fmt: skip


def read_png(path) -> np.ndarray:
    assert path.read_bytes()[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    image = cv2.imread(str(path))
    assert image is not None, f"{path.name} does not decode"
    return image


def ink(image: np.ndarray) -> float:
    """Share of pixels that are not white background."""
    return float((image.min(axis=2) < 240).mean())


def test_write_plots_draws_three_readable_figures_with_content(tmp_path):
    paths = write_plots(synthetic_report(), tmp_path / "plots")
    assert [path.name for path in paths] == NAMES
    empty = write_plots(empty_report(), tmp_path / "empty")
    for path, blank in zip(paths, empty, strict=True):
        image = read_png(path)
        height, width = image.shape[:2]
        assert 600 <= width <= 1200 and height >= 250, f"{path.name} is {width}x{height}"
        assert image.std() > 10, f"{path.name} looks blank"
        assert ink(image) > 2 * ink(read_png(blank)), f"{path.name} draws no more than its no-data version"


def test_reports_with_empty_lists_still_get_every_figure(tmp_path):
    paths = write_plots(empty_report(), tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(NAMES)
    for path in paths:
        image = read_png(path)
        assert image.shape[1] >= 600 and image.std() > 1, f"{path.name} has no note"


def test_runs_without_samples_or_timeline_count_as_no_data(tmp_path):
    report = synthetic_report(calls=10, frames=3)
    for run in report["inference"]:
        run["samples_ms"] = []
    for run in report["end_to_end"]:
        run["timeline"], run["stages_ms"] = [], {}
    paths = write_plots(report, tmp_path)
    assert all(read_png(path).shape[1] >= 600 for path in paths)


def test_identical_samples_draw_on_a_linear_axis(tmp_path):
    report = synthetic_report(calls=10, frames=3)
    report["inference"] = [dict(report["inference"][0], samples_ms=[4.0] * 300, p50_ms=4.0, p99_ms=4.0)]
    path = write_plots(report, tmp_path)[0]
    assert ink(read_png(path)) > 0.04


def test_write_plots_leaves_the_pyplot_figure_registry_alone(tmp_path):
    before = plt.get_fignums()
    write_plots(synthetic_report(), tmp_path)
    assert plt.get_fignums() == before


def test_figures_stay_small_with_many_samples(tmp_path):
    for path in write_plots(synthetic_report(calls=10_000, frames=10_000), tmp_path):
        assert path.stat().st_size < 200_000, f"{path.name} is {path.stat().st_size} bytes"


def test_the_machine_line_names_cpu_and_gpu_or_none():
    assert machine_line({"cpu": "Ryzen 9", "gpu": "H200"}) == "CPU: Ryzen 9  ·  GPU: H200"
    assert machine_line({"cpu": "Ryzen 9", "gpu": None}).endswith("GPU: none")


def test_stages_come_in_pipeline_order_then_as_first_seen():
    names = ["sink", "blend", "encode", "read", "swap", "landmarks", "sink"]
    assert stage_order(names) == ["read", "landmarks", "swap", "blend", "sink", "encode"]


@pytest.mark.parametrize(
    ("samples", "expected"),
    [([[1.0, 5.0], [9.0]], False), ([[1.0, 5.0], [11.0]], True), ([[0.0, 0.5], [4.0]], False), ([[]], False)],
)
def test_latency_axis_is_logarithmic_beyond_a_tenfold_spread(samples, expected):
    assert wants_log([np.asarray(values) for values in samples]) is expected


def test_each_paced_rate_gets_its_own_interval_line_style():
    from bench.plots import plot_timeline

    report = synthetic_report(frames=60)
    report["end_to_end"][1]["pace_fps"] = 60.0
    axes = plot_timeline(report).axes[0]
    styles = {
        line.get_label(): line.get_linestyle() for line in axes.get_lines() if "interval" in line.get_label()
    }
    assert (
        set(styles) == {"frame interval at 30 fps", "frame interval at 60 fps"}
        and len(set(styles.values())) == 2
    )


def test_the_inference_legend_sits_below_the_axes_not_on_the_curves():
    from bench.plots import plot_inference

    figure = plot_inference(synthetic_report(calls=50))
    figure.canvas.draw()
    (legend,) = figure.legends
    box = legend.get_window_extent()
    assert all(box.y1 <= axes.get_window_extent().y0 for axes in figure.axes)
