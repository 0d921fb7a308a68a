"""Glass-to-glass latency: a counter on the screen, filmed by the camera, read after the live pipeline.

A full-screen window shows a black bar of white cells, a frame counter (16-bit Gray code between start and
end markers, with a parity cell) that changes each time the window draws, and keeps the time each value
was handed to the screen. Point the camera at the screen with the whole bar in view: it may fill all or
part of the picture, sit a few degrees off level, be mirrored or upside down; the room need not be dark,
but keep glare off the bar. Frames go through the real live pipeline (model and backend as given) to a
sink that reads the counter: latency = arrival at the sink - when that value was handed to the screen.

Included: the screen (compositor, refresh, panel), camera exposure and readout, transfer and decoding, the
driver's buffer and every pipeline stage. With only the screen in view, no face is found and frames pass
through (capture + landmarks + display); with a face in view as well (beside the screen, or a photo), swap
and blend are included. Not included: the virtual camera and what reads it (call app, encoder, network,
the far screen); the local screen stands in for the one the output is watched on. The counter changes
faster than the refresh, so a value may wait up to one refresh to be lit: that wait is part of the figure.

Frames whose bar cannot be read (out of view, motion blur, two values caught in one exposure) are counted,
never guessed; decoded values never shown, or shown after the frame arrived, count as implausible.
Decoding runs after the arrival time is taken; it delays the next frames, and the pipeline's own capture →
sink figure, by a few milliseconds.
"""

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2

from bench.counter_pattern import DATA_BITS, PATTERN_SIZE, decode_counter, encode_counter
from stream.capture import CaptureOptions, open_source
from stream.errors import SwapcamError
from stream.lifecycle import OwnedResource
from stream.live import LiveOptions, LiveResult, run_live
from stream.metrics import LatencyStats, RunFigures, percentiles
from stream.pipeline import StopRequested
from stream.sinks import QUIT_KEYS, require_display
from stream.types import BGRFrame

Clock = Callable[[], float]  # seconds, monotonic

WARMUP_S = 1.0  # after the first delivered frame: camera exposure settles, kernels are warm
# Faster than any refresh, so a value is handed over shortly before the screen lights it, yet the window
# leaves the pipeline its share of the CPU.
MAX_DRAWS_PER_S = 240
STATUS_EVERY_S = 1.0
STATUS_ORIGIN = (24, 48)  # baseline of the status line on the page, far above the bar


@dataclass(frozen=True)
class GlassCounts:
    """What the counter reader saw after warm-up: ``frames`` delivered, of which ``read`` give ``latency``
    (glass to glass) and the others were ``unreadable`` or ``implausible``."""

    frames: int
    read: int
    unreadable: int
    implausible: int
    latency: LatencyStats

    def to_json(self) -> dict[str, object]:
        return {"frames": self.frames, "read": self.read, "unreadable": self.unreadable,
                "implausible": self.implausible, "latency_ms": self.latency.to_json()}  # fmt: skip


@dataclass(frozen=True)
class GlassRun:
    """One `swapcam bench glass` run: the counts, the pattern window's drawing and the pipeline's figures
    over the whole run (capture → sink, decoding included)."""

    camera: str
    model: str
    backend: str
    counts: GlassCounts
    values_drawn: int
    draw_fps: float
    pipeline: RunFigures

    def to_json(self) -> dict[str, object]:
        return {"camera": self.camera, "model": self.model, "backend": self.backend, **self.counts.to_json(),
                "values_drawn": self.values_drawn, "draw_fps": self.draw_fps, "fps": self.pipeline.fps,
                "frames_with_faces": self.pipeline.frames_with_faces,
                "pipeline_latency_ms": self.pipeline.latency.to_json()}  # fmt: skip


class GlassSink(OwnedResource):
    """The pipeline's last sink: reads the counter of each frame and keeps its latency.

    ``shown_at(value)`` gives the ``clock()`` time the value was handed to the screen, or None. Frames that
    arrive within ``warmup_s`` of the first one are not counted. After ``request_stop()`` the next frame
    ends the run with ``StopRequested``.
    """

    def __init__(
        self, shown_at: Callable[[int], float | None], clock: Clock = time.monotonic, warmup_s: float = 0.0
    ) -> None:
        self._shown_at, self._clock, self._warmup_s = shown_at, clock, warmup_s
        self.first_arrival: float | None = None
        self.latencies_ms: list[float] = []
        self.frames = self.unreadable = self.implausible = 0
        self._stop = threading.Event()  # set by the display loop, seen by the pipeline's deliver thread
        self._closed = False

    def send(self, frame: BGRFrame) -> None:
        self._check_open()
        if self._stop.is_set():
            raise StopRequested
        arrival = self._clock()
        if self.first_arrival is None:
            self.first_arrival = arrival
        if arrival - self.first_arrival < self._warmup_s:
            return
        self.frames += 1
        value = decode_counter(frame)
        shown = None if value is None else self._shown_at(value)
        if value is None:
            self.unreadable += 1
        elif shown is None or shown > arrival:
            self.implausible += 1
        else:
            self.latencies_ms.append((arrival - shown) * 1000)

    def request_stop(self) -> None:
        self._stop.set()

    def figures(self) -> "GlassCounts":
        return GlassCounts(
            frames=self.frames,
            read=len(self.latencies_ms),
            unreadable=self.unreadable,
            implausible=self.implausible,
            latency=percentiles(self.latencies_ms).rounded(),
        )

    def describe(self) -> str:
        return "glass-to-glass counter reader (no output)"

    def _release(self) -> None:
        pass


class PatternWindow(OwnedResource):
    """A full-screen window drawing the counter; ``show_next()`` draws the next value and keeps when.

    The screen is covered, so a status line (dark text far above the bar) tells the user how reading goes.
    """

    def __init__(self, title: str = "swapcam glass") -> None:
        require_display("the glass-to-glass pattern", "run it on a machine with a screen")
        self.title = title
        # Written here, read by the sink's thread: single dict operations are atomic in CPython.
        self._shown: dict[int, float] = {}
        self._value = 0
        cv2.namedWindow(title, cv2.WINDOW_NORMAL)
        cv2.setWindowProperty(title, cv2.WND_PROP_FULLSCREEN, cv2.WINDOW_FULLSCREEN)
        self._closed = False

    def show_next(self, status: str) -> bool:
        """Draw the next value; False when q or Esc was pressed or the window was closed."""
        self._check_open()
        page = encode_counter(self._value, PATTERN_SIZE)
        cv2.putText(page, status, STATUS_ORIGIN, cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 2, cv2.LINE_AA)
        cv2.imshow(self.title, page)
        key = cv2.waitKey(1) & 0xFF
        self._shown[self._value] = time.monotonic()  # the sink's clock: the page is now the screen's
        self._value = (self._value + 1) % (1 << DATA_BITS)
        return key not in QUIT_KEYS and cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) >= 1

    def shown_at(self, value: int) -> float | None:
        return self._shown.get(value)

    def _release(self) -> None:
        cv2.destroyWindow(self.title)
        cv2.waitKey(1)  # lets HighGUI process the close


def run_glass(
    camera: int,
    model: Path,
    seconds: float,
    backend: str = "auto",
    *,
    capture: CaptureOptions | None = None,
    say: Callable[[str], None] = lambda message: None,
) -> GlassRun:
    """Show the counter and run the live pipeline on ``camera`` for ``seconds`` after warm-up, or to q/Esc."""
    if not seconds > 0:
        raise SwapcamError(f"expected a measuring time above 0 seconds, got {seconds}")
    options = LiveOptions(model=model, backend=backend)
    with open_source(camera, None, capture or CaptureOptions()) as source, PatternWindow() as window:
        say(f"source {source.describe()}; point it at the pattern on the screen (q or Esc quits)")
        with GlassSink(window.shown_at, warmup_s=WARMUP_S) as sink, ThreadPoolExecutor(1) as pool:
            live = pool.submit(run_live, source, [sink], options, say)
            try:
                drawing = _show_until(window, sink, live, seconds, say)
            finally:
                sink.request_stop()
            result = live.result()
        return GlassRun(
            camera=source.describe(),
            model=str(model),
            backend=result.backend,
            counts=sink.figures(),
            values_drawn=drawing[0],
            draw_fps=drawing[1],
            pipeline=result.figures,
        )


def _show_until(
    window: PatternWindow,
    sink: GlassSink,
    live: "Future[LiveResult]",
    seconds: float,
    say: Callable[[str], None],
) -> tuple[int, float]:
    """Draw counters until the deadline, a quit key or the end of the pipeline; (values drawn, per second)."""
    start = last_status = time.monotonic()
    deadline, drawn, status = None, 0, "waiting for the pipeline to start - q or Esc quits"
    while not live.done():
        going = window.show_next(status)
        drawn += 1
        if not going:
            break
        time.sleep(max(0.0, start + drawn / MAX_DRAWS_PER_S - time.monotonic()))
        now = time.monotonic()
        if deadline is None and sink.first_arrival is not None:
            deadline = sink.first_arrival + WARMUP_S + seconds
            say(f"frames arriving; measuring for {seconds:g} s after {WARMUP_S:g} s of warm-up")
        if deadline is not None and now >= deadline:
            break
        if deadline is not None and now - last_status >= STATUS_EVERY_S:
            last_status, figures = now, sink.figures()
            status = f"{figures.read} of {figures.frames} frames read - q or Esc quits"
            say(format_glass(figures))
    return drawn, round(drawn / max(time.monotonic() - start, 1e-9), 1)


def format_glass(figures: GlassCounts) -> str:
    """One line: glass-to-glass percentiles and how many frames were read."""
    latency = figures.latency
    counts = (
        f"{figures.read} of {figures.frames} frames read, {figures.unreadable} unreadable, "
        f"{figures.implausible} implausible"
    )
    if not figures.read:
        return f"glass-to-glass: no frame read ({counts}): is the whole bar in the camera's view?"
    return (
        f"glass-to-glass latency p50 {latency.p50:.1f} ms, p95 {latency.p95:.1f} ms, "
        f"p99 {latency.p99:.1f} ms, max {latency.max:.1f} ms ({counts})"
    )
