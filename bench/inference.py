"""Batch-1 inference latency of a swap model: PyTorch vs ONNX Runtime, in one run on one machine.

    python -m bench.inference RUN_OR_CHECKPOINT [--out FILE.json] [--seconds 3]

Each runner is warmed up (>= 200 ms), then timed for >= --seconds and >= 300 calls on real aligned
sample faces, rotated so no call sees the input of the one before. Reports min/p50/p95/p99/max in ms and
each runner's p50 relative to the first.
"""

import argparse
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from bench.machine import machine
from bench.timing import Budget, Measurement, measure
from export.onnx_export import export_onnx
from export.parity import sample_faces
from stream.contract import INPUT_NAME
from trained.checkpoint import DECODER, load_model
from trained.model import SwapDirection, count_flops


def time_calls(
    name: str, call: Callable[[np.ndarray], object], inputs: np.ndarray, seconds: float
) -> Measurement:
    """Latency of ``call`` on rotating single inputs (N, 3, R, R) → one at a time."""
    return measure(name, lambda i: call(inputs[i % len(inputs)][None]), Budget(seconds=seconds))


def torch_runner(module: torch.nn.Module) -> Callable[[np.ndarray], object]:
    def call(face: np.ndarray) -> object:
        with torch.inference_mode():
            return module(torch.from_numpy(face))

    return call


def onnx_runner(path: Path, threads: int) -> Callable[[np.ndarray], object]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return lambda face: session.run(None, {INPUT_NAME: face})


def benchmark(source: Path, seconds: float, direction: str = "a2b") -> dict[str, object]:
    model, state = load_model(source)
    module = SwapDirection(model, DECODER[direction]).eval()
    resolution = model.config.resolution
    threads = torch.get_num_threads()
    with tempfile.TemporaryDirectory() as folder:
        fp32, fp16 = Path(folder) / "fp32.onnx", Path(folder) / "fp16.onnx"
        info = export_onnx(source, fp32, direction=direction).info
        export_onnx(source, fp16, direction=direction, fp16=True)
        faces = sample_faces(info.align_spec)
        results = [
            time_calls("torch fp32", torch_runner(module), faces, seconds),
            time_calls("onnxruntime CPU fp32", onnx_runner(fp32, threads), faces, seconds),
            time_calls("onnxruntime CPU fp16", onnx_runner(fp16, threads), faces.astype(np.float16), seconds),
        ]
    return {
        "machine": machine(),
        "model": {"source": str(source), "step": int(state["step"]), "resolution": resolution,
                  "flops_per_frame": count_flops(module, resolution),
                  "weight_bytes_fp32": sum(p.numel() * 4 for p in module.parameters())},
        "threads": threads,
        "results": [{"runner": r.name, **r.fields()} for r in results],
    }  # fmt: skip


def markdown(report: dict) -> str:
    results = report["results"]
    base = results[0]["p50_ms"]
    lines = [
        "| runner | calls | min | p50 | p95 | p99 | max | p50 vs torch |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['runner']} | {r['calls']} | {r['min_ms']:.2f} | {r['p50_ms']:.2f} | {r['p95_ms']:.2f} | "
            f"{r['p99_ms']:.2f} | {r['max_ms']:.2f} | {base / r['p50_ms']:.2f}x |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("source", type=Path, help="run folder or checkpoint")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--out", type=Path, help="write the report as JSON here")
    args = parser.parse_args()
    report = benchmark(args.source, args.seconds)
    print(f"machine: {report['machine']}")
    print(f"model: {report['model']}")
    print(markdown(report))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
