"""The live pipeline, wired in one place:

    capture ──► landmarks (+ smoothing, align) ──► swap ──► blend (+ label) ──► sinks

or, when the model runs on a CUDA GPU, with crop, swap and paste-back on the GPU in one stage:

    capture ──► landmarks (+ smoothing) ──► cuda (crop, swap, paste-back, + label) ──► sinks

``run_live`` opens the backend and the landmark graph, builds the pipeline, runs it to the end of the
source (or Ctrl-C, or q in the preview) and returns the run's figures. Sources and sinks are opened by the
caller, who owns them.
"""

import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TextIO

import numpy as np

from stream.backends import (
    SwapBackend,
    apply_morph,
    choose_backend,
    device_swap,
    open_backend,
)
from stream.blend import warm_up
from stream.blend_options import BlendOptions
from stream.capture import Source, VideoFileSource
from stream.choices import BLEND_DEVICES
from stream.controls import LiveControls, LiveSettings
from stream.metrics import RunFigures, RunLog, format_rolling, rolling
from stream.occlusion import OcclusionStage
from stream.packet import FramePacket
from stream.pipeline import Pipeline, Stage
from stream.sinks import Sink
from stream.smoothing import OneEuroParams
from stream.stages import (
    LandmarkStage,
    SwapWatch,
    blend_stage,
    capture_clock,
    cuda_stage,
    deliver_to,
    swap_stage,
    video_clock,
    watch_first_faces,
)
from stream.types import Affine, BGRFrame

TIMELINE_POINTS = 20_000  # a timeline longer than this is thinned (``stream.metrics.RunLog``)


class GpuSwapper(Protocol):
    """What the pipeline needs of ``stream.gpu.swapper.CudaSwapper`` (imported only when used: torch)."""

    def __call__(self, frame: BGRFrame, matrices: Sequence[Affine]) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class LiveOptions:
    model: Path
    backend: str = "auto"
    max_faces: int = 1
    blend_device: str = "auto"  # "auto": on the GPU when the model runs on CUDA; "cpu"; "cuda"
    morph: float | None = None  # AMP .dfm models only; None: the model's default
    label: bool = True
    occlusion: bool = True  # hands in front of the face stay in front (stream.occlusion; CPU paste-back)
    overlay: bool = False
    stats: bool = False
    timeline: bool = False  # keep a thinned per-frame latency timeline (``LiveResult.timeline``)
    smoothing: OneEuroParams = field(default_factory=OneEuroParams)
    blend: BlendOptions = field(default_factory=BlendOptions)

    def __post_init__(self) -> None:
        if not 1 <= self.max_faces <= 8:
            raise ValueError(f"max faces must be 1..8, got {self.max_faces}")
        if self.blend_device not in BLEND_DEVICES:
            raise ValueError(
                f"blend device must be one of {', '.join(BLEND_DEVICES)}, got {self.blend_device!r}"
            )
        if self.morph is not None and not 0.0 <= self.morph <= 1.0:
            raise ValueError(f"morph must be 0..1, got {self.morph}")


@dataclass(frozen=True)
class LiveResult:
    backend: str
    figures: RunFigures
    timeline: list[list[float]]  # [frame index, seconds since first delivery, capture → sink ms]; thinned
    interrupted: bool = False  # stopped by Ctrl-C: the figures cover the frames delivered until then


class StatsPrinter:
    """Prints rolling figures at most once per second (``--stats``)."""

    def __init__(self, log: RunLog, out: TextIO) -> None:
        self._log, self._out = log, out
        self._last = time.monotonic()

    def __call__(self) -> None:
        now = time.monotonic()
        if now - self._last >= 1.0:
            self._last = now
            print(format_rolling(recent_figures(self._log)), file=self._out, flush=True)


def recent_figures(log: RunLog) -> dict[str, float]:
    now = time.monotonic_ns()
    return rolling(log.recent(now), now)


def build_pipeline(
    source: Source,
    landmarks: LandmarkStage,
    backend: SwapBackend,
    sinks: Sequence[Sink],
    *,
    options: LiveOptions,
    log: RunLog,
    on_delivered: Callable[[], None],
    gpu: GpuSwapper | None = None,
    watch: SwapWatch | None = None,
    occlusion: Callable[[FramePacket], FramePacket] | None = None,
    controls: LiveControls | None = None,
) -> Pipeline:
    """The one function that wires stages: capture → landmarks [→ occlusion] → swap → blend → sinks, or
    with ``gpu`` (crop, swap and paste-back on a CUDA device) capture → landmarks → cuda → sinks.
    ``controls`` (default: fixed at ``options``) are read once per frame."""

    controls = controls or LiveControls(LiveSettings(overlay=options.overlay, blend=options.blend))

    def overlay() -> list[str]:
        stats = [format_rolling(recent_figures(log))] if controls.settings().overlay else []
        return stats + list(controls.message())

    def swapping() -> bool:
        return controls.settings().swap

    stages = [Stage("landmarks", landmarks)]
    if occlusion is not None and gpu is None:
        stages.append(Stage("occlusion", occlusion))
    if gpu is not None:
        stages.append(Stage("cuda", cuda_stage(gpu, options.label, overlay, swapping)))
    else:
        stages += [
            Stage("swap", swap_stage(backend, watch, swapping)),
            Stage("blend", blend_stage(lambda: controls.settings().blend, options.label, overlay)),
        ]
    return Pipeline(source.read, stages, deliver_to(sinks, log, on_delivered), live=source.live)


def run_live(
    source: Source,
    sinks: Sequence[Sink],
    options: LiveOptions,
    say: Callable[[str], None],
    *,
    progress: Callable[[], None] | None = None,
    idle: Callable[[], None] | None = None,
    controls: LiveControls | None = None,
) -> LiveResult:
    """Run until the source ends, Ctrl-C or a stop request; raises a stage's error.

    Ctrl-C stops every thread and returns the figures so far, marked ``interrupted``. ``idle`` runs on this
    thread while it waits (the preview window's event loop); ``controls`` change settings as it runs.
    """
    choice = choose_backend(options.model, options.backend)
    say(f"backend {choice.name}: {choice.reason}")
    backend = open_backend(options.model, choice, say)
    with ExitStack() as owned:
        owned.enter_context(backend)
        apply_morph(backend, options.morph, say)
        gpu = _open_gpu_swapper(backend, options, say)
        if gpu is not None:
            owned.callback(gpu.close)
            if controls is not None:
                say(
                    "live keys: with paste-back on the GPU, s (swap) and o (overlay) apply; the "
                    "paste-back keys need --blend-device cpu"
                )
        else:
            say("loading the blend kernels (compiled on first use, 10-30 s; then cached)")
            started = time.monotonic()
            warm_up()
            say(f"blend kernels ready in {time.monotonic() - started:.1f} s")
            warm_backend(backend, options.max_faces)
        clock = capture_clock if source.live else video_clock(source.fps)
        spec = backend.info.align_spec
        landmarks = LandmarkStage(spec, options.max_faces, options.smoothing, clock, crop=gpu is None)
        owned.callback(landmarks.close)
        occlusion = None
        if options.occlusion and gpu is None:
            occlusion = OcclusionStage()
            owned.callback(occlusion.close)
        log = RunLog(TIMELINE_POINTS if options.timeline else 0)
        printer = StatsPrinter(log, sys.stderr) if options.stats else progress or _nothing
        pipeline = build_pipeline(
            source,
            landmarks,
            backend,
            sinks,
            options=options,
            log=log,
            on_delivered=printer,
            gpu=gpu,
            watch=watch_first_faces(say),
            occlusion=occlusion,
            controls=controls,
        )
        interrupted = False
        with pipeline:
            try:
                pipeline.wait(idle=idle)
            except KeyboardInterrupt:
                interrupted = True
        figures = log.summary(pipeline.frames_read, pipeline.dropped)
        short = source.shortfall() if isinstance(source, VideoFileSource) else None
        if short is not None:
            say(f"warning: {short}")
        described = backend.describe() + (" + crop/paste-back on cuda" if gpu is not None else "")
    return LiveResult(described, figures, log.timeline(), interrupted)


def warm_backend(backend: SwapBackend, max_faces: int) -> None:
    """One swap per batch size before the first frame: first calls allocate, pick kernels or capture a CUDA
    graph (seconds on a GPU), which would otherwise stall the stream."""
    size = backend.info.resolution
    for batch in range(1, max_faces + 1):
        backend.swap(np.zeros((batch, size, size, 3), np.uint8))


def _open_gpu_swapper(
    backend: SwapBackend, options: LiveOptions, say: Callable[[str], None]
) -> GpuSwapper | None:
    """A CUDA swapper when crop and paste-back run on the GPU (``--blend-device``), warmed up; else None."""
    swap = device_swap(backend, options.blend_device)
    if swap is None:
        return None
    import torch

    from stream.gpu.swapper import CudaSwapper

    say("crop and paste-back on the GPU; capturing the model's CUDA graphs")
    swapper = CudaSwapper(swap, backend.info.resolution, options.blend, torch.device("cuda"))
    try:
        swapper.warm_up(options.max_faces)
    except BaseException:
        swapper.close()
        raise
    return swapper


def _nothing() -> None:
    pass
