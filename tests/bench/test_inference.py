"""`swapcam bench inference`: every backend that can run the model, through the backend protocol."""

import json

from bench.machine import machine
from bench.timing import MIN_CALLS
from stream.cli import main


def test_bench_inference_times_each_backend_on_real_faces_and_writes_json(exported, tmp_path, capsys):
    out = tmp_path / "inference.json"
    assert (
        main(["bench", "inference", "--model", str(exported["fp32"]), "--seconds", "0", "--out", str(out)])
        == 0
    )
    printed = capsys.readouterr().out
    assert "| backend | batch | calls | min ms | p50 ms | p95 ms | p99 ms | max ms |" in printed
    report = json.loads(out.read_text())
    batches = sorted(entry["batch"] for entry in report["inference"])
    assert batches == [1, 2] and all(
        entry["backend"].startswith("onnxruntime") for entry in report["inference"]
    )
    assert all(entry["calls"] >= MIN_CALLS and entry["p50_ms"] > 0 for entry in report["inference"])
    assert any("torch" in note for note in report["notes"])  # an .onnx file alone: torch is named, not run


def test_machine_names_cpu_and_versions():
    described = machine()
    assert described["cpu"] and described["versions"]["torch"].startswith("2.13")


def test_bench_soak_runs_the_live_pipeline_and_samples_the_process(exported, tmp_path, capsys):
    out = tmp_path / "soak.json"
    code = main(["bench", "soak", "--frames", "40", "--every", "20", "--model", str(exported["fp32"]),
                 "--out", str(out)])  # fmt: skip
    report = json.loads(out.read_text())
    assert report["frames"] == 40 and [s["frames"] for s in report["samples"]] == [1, 20, 40]
    assert code == (0 if report["verdict"]["passed"] else 1) and "rss_mb" in report["after"]
