"""Soak: many frames through the real live pipeline, watching memory, threads and open files.

    swapcam bench soak [--frames 50000] [--model M] [--out bench/results/soak-cpu.json]

The woman's sample clip is decoded again and again (reopened at its end) into the full pipeline (FaceMesh,
hand occlusion, the model through its backend, blending, the disclosure label) and a null sink, as fast as
it goes. Every ``--every`` frames the process's resident memory, thread count and open file descriptors are
sampled (from /proc). The verdict compares the end with the state after the warm-up (the first 10%): a
live run must not grow with its length.
"""

import argparse
import json
import os
import threading
import time
from pathlib import Path

from stream.capture import Source, VideoFileSource
from stream.files import atomic_output
from stream.types import BGRFrame

RSS_GROWTH_LIMIT_MB = 20.0


class LoopingSource:
    """``frames`` frames of a video file, reopened whenever it ends (decoding stays part of the work)."""

    def __init__(self, path: Path, frames: int) -> None:
        self._path, self._left = path, frames
        self._video: Source = VideoFileSource(path)
        self.fps, self.size, self.live = self._video.fps, self._video.size, False
        self.frame_count: int | None = frames

    def read(self) -> BGRFrame | None:
        if self._left <= 0:
            return None
        frame = self._video.read()
        if frame is None:
            self._video.close()
            self._video = VideoFileSource(self._path)
            frame = self._video.read()
        self._left -= 1
        return frame

    def describe(self) -> str:
        return f"{self._path.name} looped for {self.frame_count} frames"

    def close(self) -> None:
        self._video.close()

    def __enter__(self) -> "LoopingSource":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def process_state() -> dict[str, float]:
    """Resident memory (MB), threads and open file descriptors of this process, from /proc."""
    with open("/proc/self/statm") as handle:
        resident_pages = int(handle.read().split()[1])
    return {
        "rss_mb": round(resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1),
        "threads": len(os.listdir("/proc/self/task")),
        "fds": len(os.listdir("/proc/self/fd")),
    }


def verdict(
    before: dict[str, float], samples: list[dict[str, float]], after: dict[str, float]
) -> dict[str, object]:
    """Growth from the sample after the warm-up (the first 10% of the run) to the run's last one; and
    whether the threads and files the run opened were all gone after it (``before`` and ``after`` it)."""
    warm = samples[max(1, len(samples) // 10)]
    last = samples[-1]
    growth = round(last["rss_mb"] - warm["rss_mb"], 1)
    flat = last["threads"] <= warm["threads"] and last["fds"] <= warm["fds"]
    # our own threads all joined and no file left open; native libraries may keep a worker pool they start
    # once (ONNX Runtime, OpenMP), which the in-run samples show does not grow
    released = after["python_threads"] <= before["python_threads"] and after["fds"] <= before["fds"]
    return {
        "rss_growth_mb": growth,
        "threads_change": last["threads"] - warm["threads"],
        "fds_change": last["fds"] - warm["fds"],
        "threads_and_files_released": released,
        "passed": growth < RSS_GROWTH_LIMIT_MB and flat and released,
    }


def run(args: argparse.Namespace) -> int:
    """`swapcam bench soak` (options: ``bench.command``)."""
    from stream.threads import size_thread_pools

    size_thread_pools(torch_pools=False)
    from stream.backends import demo_model
    from stream.live import LiveOptions, run_live
    from stream.machine import machine
    from stream.samples import ensure_samples
    from stream.sinks import NullSink

    model = args.action_model or demo_model(lambda message: None)
    samples: list[dict[str, float]] = []
    delivered = 0
    started = time.monotonic()

    def sample() -> None:
        nonlocal delivered
        delivered += 1
        if delivered % args.every == 0 or delivered == 1:
            samples.append({"frames": delivered, "seconds": round(time.monotonic() - started, 1),
                            **process_state(), "python_threads": threading.active_count()})  # fmt: skip
            print(json.dumps(samples[-1]), flush=True)

    clip = ensure_samples()["woman"]
    before = {**process_state(), "python_threads": threading.active_count()}
    with LoopingSource(clip, args.frames) as source, NullSink() as sink:
        result = run_live(source, [sink], LiveOptions(model=model), lambda message: None, progress=sample)
    after = {**process_state(), "python_threads": threading.active_count()}
    report = {"machine": machine(), "model": str(model), "backend": result.backend, "frames": args.frames,
              "fps": result.figures.fps, "latency_ms": result.figures.latency.to_json(),
              "verdict": verdict(before, samples, after), "before": before, "after": after,
              "samples": samples}  # fmt: skip
    args.action_out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(args.action_out) as part:
        part.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report["verdict"]))
    return 0 if report["verdict"]["passed"] else 1
