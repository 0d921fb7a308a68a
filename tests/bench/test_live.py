from bench.live import MIN_CALLS, benchmark, markdown


def test_live_benchmark_compares_backends_sinks_pacing_and_blend_on_the_real_clip(demo_model):
    report = benchmark(frames=30, model=demo_model)
    throughput = report["throughput"]
    assert list(throughput) == [
        "onnxruntime, null sink",
        "torch checkpoint, null sink",
        "onnxruntime, mp4 file",
    ]
    assert all(run["frames_delivered"] == 30 and run["fps"] > 0 for run in throughput.values())
    assert throughput["torch checkpoint, null sink"]["backend"].startswith("torch")
    paced = report["paced_30fps"]["onnxruntime, null sink"]
    assert "paced at 30 fps" in paced["source"] and paced["frames_read"] == 30
    assert paced["fps"] < 33  # the pacing holds the rate down to the camera's
    for timing in report["blend_per_face_ms"].values():
        assert timing["calls"] >= MIN_CALLS and 0 < timing["p50"] <= timing["p95"] <= timing["max"]
    table = markdown(report)
    assert table.count("paste_face") == 1 and "paced_30fps" in table
