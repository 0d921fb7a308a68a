"""Live pipeline on the real sample clip: throughput, paced latency, and the blend cost per face.

    python -m bench.live [--model FILE.onnx] [--frames N] [--out FILE.json]

Three measurements in one run on one machine, each comparing alternatives:
- throughput in file mode (every frame, as fast as possible) with ONNX Runtime and with the torch backend
  (the same demo weights as a checkpoint), both to a null sink, and ONNX Runtime writing an mp4 as
  `make demo` does;
- capture → sink latency with the clip paced at 30 fps like a camera (latest-frame policy, drops counted);
- ``paste_face`` alone per face on real frames and real model output, colour transfer on and off,
  after warm-up, >= 300 calls and >= 3 s.
"""

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.machine import machine
from export.demo import demo_onnx
from stream.backends import choose_backend, open_backend
from stream.blend import BlendOptions, paste_face, warm_up
from stream.capture import Pacer, Source, VideoFileSource
from stream.landmarks import FaceLandmarker
from stream.live import LiveOptions, run_live
from stream.metrics import percentiles
from stream.samples import ensure_samples
from stream.sinks import FileSink, NullSink, Sink
from stream.stages import face_of
from stream.types import BGRFrame
from trained.demo import CHECKPOINT

PACED_FPS = 30.0
MIN_CALLS, MIN_SECONDS, WARMUP_S = 300, 3.0, 0.2


class LimitedSource:
    """The first ``frames`` frames of a source; ``pace_fps`` makes it a camera: paced, latest-frame policy."""

    def __init__(self, source: Source, frames: int, pace_fps: float | None = None) -> None:
        self._source, self._left = source, frames
        self._pacer = Pacer(pace_fps) if pace_fps else None
        self.live = pace_fps is not None
        self.fps = pace_fps or source.fps
        self.size, self.frame_count = source.size, min(frames, source.frame_count or frames)
        self._index = 0

    def read(self) -> BGRFrame | None:
        if self._left <= 0:
            return None
        frame = self._source.read()
        if frame is not None and self._pacer is not None:
            self._pacer.wait(self._index)
        self._left, self._index = self._left - 1, self._index + 1
        return frame

    def describe(self) -> str:
        pace = f"paced at {self.fps:g} fps" if self.live else "as fast as possible"
        return f"{self._source.describe()} ({self.frame_count} frames, {pace})"

    def close(self) -> None:
        """The wrapped source is closed by its owner."""

    def __enter__(self) -> "LimitedSource":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def live_run(
    clip: Path,
    model: Path,
    *,
    frames: int,
    pace_fps: float | None,
    sink: Callable[[], Sink],
    backend: str = "auto",
) -> dict[str, object]:
    with VideoFileSource(clip) as video, sink() as output:
        source = LimitedSource(video, frames, pace_fps)
        result = run_live(source, [output], LiveOptions(model=model, backend=backend), lambda message: None)
    return {
        "source": source.describe(),
        "backend": result.backend,
        "sink": output.describe(),
        **result.figures,
    }


def blend_timing(clip: Path, model: Path, colour: str) -> dict[str, float]:
    """paste_face per face on real frames and the model's real output."""
    warm_up()
    backend = open_backend(model, choose_backend(model), lambda message: None)
    faces, frames = [], []
    with VideoFileSource(clip) as video, FaceLandmarker(mode="video") as landmarker:
        for _ in range(40):
            frame = video.read()
            assert frame is not None
            detected = landmarker.detect(frame)
            if detected:
                face = face_of(frame, detected[0].landmarks, backend.info.align_spec)
                swapped, mask = backend.swap(face.crop[None])
                faces.append((face, swapped[0], mask[0]))
                frames.append(frame)
    backend.close()
    options = BlendOptions(colour=colour)
    durations: list[float] = []
    start, index = time.perf_counter(), 0
    while time.perf_counter() - start < WARMUP_S + MIN_SECONDS or len(durations) < MIN_CALLS:
        face, swapped, mask = faces[index % len(faces)]
        target = frames[index % len(frames)].copy()
        begin = time.perf_counter()
        paste_face(target, swapped, mask, face.crop, face.matrix, options)
        if time.perf_counter() - start > WARMUP_S:
            durations.append((time.perf_counter() - begin) * 1000)
        index += 1
    return {"calls": len(durations), **{k: round(float(v), 3) for k, v in percentiles(durations).items()}}


def benchmark(frames: int, model: Path | None = None) -> dict[str, object]:
    clip = ensure_samples()["woman"]
    model = model or demo_onnx(print)
    with tempfile.TemporaryDirectory() as folder:
        mp4 = Path(folder) / "out.mp4"
        throughput = {
            "onnxruntime, null sink": live_run(clip, model, frames=frames, pace_fps=None, sink=NullSink),
            "torch checkpoint, null sink": live_run(
                clip, CHECKPOINT, frames=frames, pace_fps=None, sink=NullSink, backend="torch"
            ),
            "onnxruntime, mp4 file": live_run(
                clip, model, frames=frames, pace_fps=None, sink=lambda: FileSink(mp4, 23.976, (640, 360))
            ),
        }
    paced = {
        "onnxruntime, null sink": live_run(clip, model, frames=frames, pace_fps=PACED_FPS, sink=NullSink)
    }
    blend = {f"colour {colour}": blend_timing(clip, model, colour) for colour in ("rct", "none")}
    return {
        "machine": machine(),
        "model": str(model),
        "throughput": throughput,
        "paced_30fps": paced,
        "blend_per_face_ms": blend,
    }


def markdown(report: dict) -> str:
    lines = ["| run | fps | latency p50 | p95 | p99 | dropped |", "|---|---|---|---|---|---|"]
    for group in ("throughput", "paced_30fps"):
        for name, run in report[group].items():
            latency = run["latency_ms"]
            lines.append(
                f"| {group}: {name} | {run['fps']:.1f} | {latency['p50']:.1f} | {latency['p95']:.1f} | "
                f"{latency['p99']:.1f} | {run['frames_dropped']} |"
            )
    lines += ["", "| paste_face per face | calls | p50 ms | p95 ms | p99 ms |", "|---|---|---|---|---|"]
    for name, timing in report["blend_per_face_ms"].items():
        lines.append(
            f"| {name} | {timing['calls']} | {timing['p50']:.2f} | {timing['p95']:.2f} "
            f"| {timing['p99']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, help="ONNX model (default: the shipped demo model)")
    parser.add_argument(
        "--frames", type=int, default=472, help="frames of the clip per run (default: all 472)"
    )
    parser.add_argument("--out", type=Path, help="write the report as JSON here")
    args = parser.parse_args()
    report = benchmark(args.frames, args.model)
    print(f"machine: {report['machine']}")
    print(markdown(report))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
