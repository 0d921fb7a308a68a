"""Training throughput per preset: real training steps (augmentation included) on the sample faces.

    swapcam bench training [--device auto|cpu|cuda] [--augment-on cpu device] [--out FILE.json]
                           [--seconds 20]

Each preset runs at its default resolution with a batch per device: on the CPU one that fits a
laptop-class machine, on a CUDA GPU one that keeps it busy. A step trains both identities, so samples/s
counts 2 x batch per step. Warm-up steps are excluded; each preset runs at least --seconds and at least
--min-steps steps. ``--augment-on`` compares where batches are augmented (OpenCV on the host, or torch on the
training device), each in the same run; by default both on a GPU, the host alone on a CPU. The machine and
the device are named in the output, written by default to bench/results/training-cpu.json or
training-gpu.json.
"""

import argparse
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from bench.machine import machine
from stream.align import AlignSpec
from stream.extract import ExtractOptions, extract
from stream.machine import cpu_name
from stream.samples import cache_dir, sample_clips
from trained.model import DEFAULT_RESOLUTION
from trained.session import Session, TrainOptions, open_session, resolve_device, train_step

BATCH = {
    "cpu": {"lite": 16, "df128": 8, "df256": 4},
    "cuda": {"lite": 64, "df128": 32, "df256": 16},
}
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Throughput:
    preset: str
    resolution: int
    batch: int
    device: str
    device_name: str
    augment_on: str
    steps: int
    seconds: float
    step_ms_p50: float
    step_ms_p95: float

    @property
    def samples_per_second(self) -> float:
        return 2 * self.batch * self.steps / self.seconds


def extracted_sample_clips() -> dict[str, Path]:
    """Both sample clips extracted at 256 px into the cache (done once)."""
    folders = {}
    for name, clip in sample_clips().items():
        folder = cache_dir() / "bench" / f"extract-{name}-256"
        extract([clip], folder, ExtractOptions(spec=AlignSpec("whole_face", 256)), progress=False)
        folders[name] = folder
    return folders


def measure(
    preset: str,
    faces: dict[str, Path],
    device: str,
    *,
    augment_on: str,
    seconds: float,
    min_steps: int,
    run: Path,
) -> Throughput:
    kind = resolve_device(device).type
    options = TrainOptions(
        preset=preset, batch=BATCH[kind][preset], device=kind, steps=1, augment_on=augment_on
    )
    session, _ = open_session(faces["woman"], faces["man"], run, options, resume=False)
    with session:
        durations = _step_durations(session, options, seconds=seconds, min_steps=min_steps)
    ms = np.array(durations) * 1000
    return Throughput(
        preset=preset,
        resolution=DEFAULT_RESOLUTION[preset],
        batch=options.batch,
        device=str(session.device),
        device_name=device_name(session.device),
        augment_on=augment_on,
        steps=len(durations),
        seconds=float(sum(durations)),
        step_ms_p50=float(np.percentile(ms, 50)),
        step_ms_p95=float(np.percentile(ms, 95)),
    )


def _step_durations(
    session: Session, options: TrainOptions, *, seconds: float, min_steps: int
) -> list[float]:
    """Seconds per training step after two warm-up steps, until both ``seconds`` and ``min_steps`` are met."""
    for _ in range(2):
        train_step(session, options)
    _synchronize(session.device)
    durations: list[float] = []
    while sum(durations) < seconds or len(durations) < min_steps:
        start = time.perf_counter()
        train_step(session, options)
        _synchronize(session.device)
        durations.append(time.perf_counter() - start)
    return durations


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name()


def default_output(device: torch.device) -> Path:
    return RESULTS / f"training-{'gpu' if device.type == 'cuda' else 'cpu'}.json"


def run(args: argparse.Namespace) -> int:
    """`swapcam bench training` (options: ``bench.command``)."""
    device = resolve_device(args.device)
    faces = extracted_sample_clips()
    results = []
    print(f"machine: {machine()}")
    print(f"device: {device_name(device)}")
    places = args.augment_on or (["cpu", "device"] if device.type == "cuda" else ["cpu"])
    print("| preset | resolution | batch | device | augmented on | samples/s | step p50 ms | step p95 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for preset in args.presets:
        for place in places:
            with tempfile.TemporaryDirectory() as run_folder:
                result = measure(
                    preset, faces, device.type, augment_on=place, seconds=args.seconds,
                    min_steps=args.min_steps, run=Path(run_folder),
                )  # fmt: skip
            results.append(result)
            print(
                f"| {result.preset} | {result.resolution} | {result.batch} | {result.device} | {place} | "
                f"{result.samples_per_second:.1f} | {result.step_ms_p50:.0f} | {result.step_ms_p95:.0f} |",
                flush=True,
            )
    report = {
        "machine": machine(),
        "results": [{**r.__dict__, "samples_per_second": r.samples_per_second} for r in results],
    }
    out = args.action_out or default_output(device)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")
    return 0
