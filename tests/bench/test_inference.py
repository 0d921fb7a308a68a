import time

import numpy as np

from bench.inference import benchmark, markdown, time_calls
from bench.machine import machine
from bench.timing import MIN_CALLS


def test_time_calls_measures_every_call_and_orders_its_statistics():
    seen = []
    latency = time_calls(
        "sleep",
        lambda face: seen.append(face.sum()) or time.sleep(0.0002),
        np.arange(12.0).reshape(4, 3),
        0.0,
    )
    assert latency.calls == MIN_CALLS
    assert latency.min_ms <= latency.p50_ms <= latency.p95_ms <= latency.p99_ms <= latency.max_ms
    assert latency.min_ms >= 0.2
    assert len(set(seen)) == 4  # inputs rotate


def test_benchmark_compares_torch_and_onnx_runtime_on_one_machine(small_run):
    report = benchmark(small_run, seconds=0.0)
    runners = [r["runner"] for r in report["results"]]
    assert runners == ["torch fp32", "onnxruntime CPU fp32", "onnxruntime CPU fp16"]
    assert all(r["calls"] >= MIN_CALLS and r["p50_ms"] > 0 for r in report["results"])
    assert report["model"]["resolution"] == 64 and report["model"]["flops_per_frame"] > 0
    table = markdown(report)
    assert table.count("\n") == 4 and "1.00x" in table


def test_machine_names_cpu_and_versions():
    described = machine()
    assert described["cpu"] and described["versions"]["torch"].startswith("2.13")
