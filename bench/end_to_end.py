"""End-to-end runs on the sample clip: the real pipeline and the sequential baseline, fast and paced."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import sequential
from stream.capture import Pacer, Source, VideoFileSource
from stream.live import LiveOptions, run_live
from stream.metrics import RunFigures
from stream.sinks import NullSink
from stream.types import BGRFrame


@dataclass(frozen=True)
class EndToEndRun:
    """One end-to-end run of the bench; ``to_json`` is its entry in the report's ``end_to_end``."""

    mode: str  # "pipelined", a variant of it ("pipelined, no hand occlusion", …) or "sequential"
    pace_fps: float | None  # None: as fast as possible
    backend: str | None  # the pipeline's backend; None for the sequential baseline, which names none
    figures: RunFigures
    timeline: Sequence[Sequence[float]]  # [frame index, seconds since the first delivery, latency ms]

    def to_json(self) -> dict[str, object]:
        """mode, pace_fps, backend (where known), the figures' fields (``RunFigures.to_json``), timeline."""
        backend = {} if self.backend is None else {"backend": self.backend}
        return {"mode": self.mode, "pace_fps": self.pace_fps, **backend, **self.figures.to_json(),
                "timeline": [list(point) for point in self.timeline]}  # fmt: skip


class LimitedSource:
    """The first ``frames`` frames of a source; ``pace_fps`` makes it a camera: paced, latest-frame policy."""

    def __init__(self, source: Source, frames: int, pace_fps: float | None = None) -> None:
        self._source, self._left = source, frames
        self._pacer = Pacer(pace_fps) if pace_fps else None
        self.live = pace_fps is not None
        self.fps = pace_fps or source.fps
        self.size = source.size
        self.frame_count: int | None = min(frames, source.frame_count or frames)
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


def pipelined(
    clip: Path,
    model: Path,
    frames: int,
    pace_fps: float | None,
    *,
    blend_device: str = "auto",
    occlusion: bool = True,
) -> EndToEndRun:
    """The real pipeline; ``blend_device`` "cpu" keeps crop and paste-back on the CPU for a model on CUDA
    (mode "pipelined, paste-back on cpu"), to compare with the GPU's; ``occlusion`` False leaves the hand
    stage out (mode "pipelined, no hand occlusion"), to show what it costs."""
    with VideoFileSource(clip) as video, NullSink() as sink:
        source = LimitedSource(video, frames, pace_fps)
        options = LiveOptions(model=model, blend_device=blend_device, occlusion=occlusion, timeline=True)
        result = run_live(source, [sink], options, lambda message: None)
    mode = "pipelined" if blend_device == "auto" else f"pipelined, paste-back on {blend_device}"
    mode += "" if occlusion else ", no hand occlusion"
    return EndToEndRun(mode, pace_fps, result.backend, result.figures, result.timeline)


def sequential_run(clip: Path, model: Path, frames: int, pace_fps: float | None) -> EndToEndRun:
    if pace_fps is None:
        figures, timeline = sequential.run_fast(clip, model, frames)
    else:
        figures, timeline = sequential.run_paced(clip, model, frames, pace_fps)
    return EndToEndRun("sequential", pace_fps, None, figures, timeline)


def ratios(runs: Sequence[EndToEndRun]) -> dict[str, float | None]:
    """Pipelined over sequential: throughput (fps, higher is better) and latency p50 at each pace. The
    pipeline without the hand stage is compared where it ran: the sequential baseline has none either."""
    like_for_like = "pipelined, no hand occlusion"
    pipelined = like_for_like if any(r.mode == like_for_like for r in runs) else "pipelined"

    def find(mode: str, pace: float | None) -> RunFigures | None:
        return next((r.figures for r in runs if r.mode == mode and r.pace_fps == pace), None)

    found: dict[str, float | None] = {}
    fast_p, fast_s = find(pipelined, None), find("sequential", None)
    if fast_p is not None and fast_s is not None and fast_s.fps:
        found["throughput_pipelined_over_sequential"] = round(fast_p.fps / fast_s.fps, 2)
    for pace in sorted({r.pace_fps for r in runs if r.pace_fps}):
        paced_p, paced_s = find(pipelined, pace), find("sequential", pace)
        if paced_p is not None and paced_s is not None and paced_p.latency.p50:
            key = f"latency_p50_sequential_over_pipelined_at_{pace:g}fps"
            found[key] = round(paced_s.latency.p50 / paced_p.latency.p50, 2)
    return found
