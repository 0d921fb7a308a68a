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

import os
import platform
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from stream.capture import CaptureOptions, open_source
from stream.errors import SwapcamError
from stream.lifecycle import OwnedResource
from stream.live import LiveOptions, LiveResult, run_live
from stream.metrics import percentiles
from stream.pipeline import StopRequested
from stream.sinks import QUIT_KEYS
from stream.types import BGRFrame

Clock = Callable[[], float]  # seconds, monotonic
CellValues = NDArray[np.float64]  # (CELLS,) mean grey level of each cell, left to right

DATA_BITS = 16
START, END = (1, 1, 0), (0, 1)  # lit cells at the ends; not palindromic, so a reversed read is recognised
CELLS = len(START) + DATA_BITS + 1 + len(END)  # the 1: parity
BORDER_U, GAP_U, CELL_HEIGHT_U = 1.0, 0.3, 3.0  # in cell pitches; a lit cell is (1 - GAP_U) wide
BAR_U = (CELLS + 2 * BORDER_U, CELL_HEIGHT_U + 2 * BORDER_U)  # (width, height) of the black bar
BAR_SHARE = (0.86, 0.5)  # the most of the page's width and height the bar takes: the rest is quiet zone
PATTERN_SIZE = (1280, 720)  # drawn at this size, scaled to the screen by the window
WORK_SIDE = 640  # camera frames are read at most this wide or high
MIN_BAR_WIDTH = 4 * BAR_U[0]  # pixels at the working size: 4 per cell pitch
CANDIDATES = 4  # the largest dark regions tried, biggest first: bounds the work per frame
SIDE_MIDDLE = (0.15, 0.85)  # the part of each side, between its rough corners, that lines are fitted to
SIDE_TOLERANCE = 0.1  # of the side's length: outline points farther from the rough side are not on it
MIN_CONTRAST = 40.0  # grey levels between the brightest and darkest cell; JPEG ringing reaches ~15
AMBIGUOUS = (0.3, 0.7)  # a cell this far between dark and lit is unreadable, and so is the frame
SAMPLE_PX = 12  # canonical pixels per cell pitch when the bar is read
WARMUP_S = 1.0  # after the first delivered frame: camera exposure settles, kernels are warm
# Faster than any refresh, so a value is handed over shortly before the screen lights it, yet the window
# leaves the pipeline its share of the CPU.
MAX_DRAWS_PER_S = 240
STATUS_EVERY_S = 1.0
STATUS_ORIGIN = (24, 48)  # baseline of the status line on the page, far above the bar


def gray_encode(value: int) -> int:
    return value ^ (value >> 1)


def gray_decode(code: int) -> int:
    value, shift = code, code >> 1
    while shift:
        value ^= shift
        shift >>= 1
    return value


def counter_cells(value: int) -> tuple[int, ...]:
    """The lit (1) and dark (0) cells, left to right, showing ``value``."""
    if not 0 <= value < 1 << DATA_BITS:
        raise ValueError(f"expected a counter value in 0..{(1 << DATA_BITS) - 1}, got {value}")
    code = gray_encode(value)
    data = tuple((code >> bit) & 1 for bit in reversed(range(DATA_BITS)))
    return START + data + (sum(data) % 2,) + END


def value_of_cells(cells: tuple[int, ...]) -> int | None:
    """The counter the cells show, read in either direction; None when markers or parity do not match."""
    for ordered in (cells, cells[::-1]):
        head, data = ordered[: len(START)], ordered[len(START) : len(START) + DATA_BITS]
        parity, tail = ordered[len(START) + DATA_BITS], ordered[len(START) + DATA_BITS + 1 :]
        if head == START and tail == END and sum(data) % 2 == parity:
            return gray_decode(int("".join(map(str, data)), 2))
    return None


def encode_counter(value: int, size: tuple[int, int]) -> BGRFrame:
    """A white ``size`` (width, height) page with the bar showing ``value`` in its middle."""
    width, height = size
    if width < 2 * BAR_U[0] or height < 2 * BAR_U[1]:
        raise ValueError(
            f"expected a page of at least {2 * BAR_U[0]:g}x{2 * BAR_U[1]:g}, got {width}x{height}"
        )
    pitch = min(width * BAR_SHARE[0] / BAR_U[0], height * BAR_SHARE[1] / BAR_U[1])
    x0, y0 = (width - BAR_U[0] * pitch) / 2, (height - BAR_U[1] * pitch) / 2
    page = np.full((height, width, 3), 255, np.uint8)
    page[round(y0) : round(y0 + BAR_U[1] * pitch), round(x0) : round(x0 + BAR_U[0] * pitch)] = 0
    top, bottom = round(y0 + BORDER_U * pitch), round(y0 + (BORDER_U + CELL_HEIGHT_U) * pitch)
    for index, lit in enumerate(counter_cells(value)):
        left = x0 + (BORDER_U + index + GAP_U / 2) * pitch
        if lit:
            page[top:bottom, round(left) : round(left + (1 - GAP_U) * pitch)] = 255
    return page


def decode_counter(frame: BGRFrame) -> int | None:
    """The counter shown by the bar in a camera frame, or None when no bar can be read with confidence."""
    gray = _working_gray(frame)
    for corners in _bar_candidates(gray):
        bits = _cell_bits(_cell_values(gray, corners))
        value = None if bits is None else value_of_cells(bits)
        if value is not None:
            return value
    return None


def _working_gray(frame: BGRFrame) -> NDArray[np.uint8]:
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    scale = WORK_SIDE / max(gray.shape)
    return cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray


def _bar_candidates(gray: NDArray[np.uint8]) -> Iterator[NDArray[np.float32]]:
    """Corners (tl, tr, br, bl) of the largest dark regions clear of the frame's edge.

    The edge rule keeps a dark room, hair or clothes, cut by the frame, from taking the places of the bar.
    """
    _, dark = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(dark)
    height, width = gray.shape
    x, y, w, h, area = (stats[1:, column] for column in range(5))
    inside = (x > 0) & (y > 0) & (x + w < width) & (y + h < height) & (w >= MIN_BAR_WIDTH)
    for index in np.flatnonzero(inside)[np.argsort(-area[inside])][:CANDIDATES]:
        box = labels[y[index] : y[index] + h[index], x[index] : x[index] + w[index]]
        corners = _corners(box == index + 1)
        if corners is not None:
            yield corners + np.array([x[index], y[index]], np.float32)


def _corners(region: NDArray[np.bool_]) -> NDArray[np.float32] | None:
    """Where lines fitted to the middle of each side of the region meet: blur rounds the corners themselves.

    Each side runs between two rough corners, the outline's extremes along the diagonals.
    """
    contours, _ = cv2.findContours(region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    points = contours[0].reshape(-1, 2).astype(np.float32)  # one 8-connected region: one outline
    total, diff = points.sum(axis=1), points[:, 0] - points[:, 1]
    rough = points[[np.argmin(total), np.argmax(diff), np.argmax(total), np.argmin(diff)]]
    lines = []
    for start, end in zip(rough, np.roll(rough, -1, axis=0), strict=True):
        side = end - start
        length = float(np.linalg.norm(side))
        if length < 1:
            return None
        along = (points - start) @ side / length**2
        across = np.abs(np.cross(side, points - start)) / length
        middle = points[
            (along > SIDE_MIDDLE[0]) & (along < SIDE_MIDDLE[1]) & (across < SIDE_TOLERANCE * length)
        ]
        if len(middle) < 2:
            return None
        vx, vy, x0, y0 = cv2.fitLine(middle, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        lines.append(np.cross([x0, y0, 1.0], [x0 + vx, y0 + vy, 1.0]))  # homogeneous line
    # corner k joins the side ending there (k - 1) and the side starting there (k)
    corners = np.array([np.cross(lines[k - 1], lines[k]) for k in range(4)])
    if np.any(np.abs(corners[:, 2]) < 1e-9):
        return None
    return (corners[:, :2] / corners[:, 2:]).astype(np.float32)


def _cell_values(gray: NDArray[np.uint8], corners: NDArray[np.float32]) -> CellValues:
    """Mean grey of the middle of each cell, after warping the bar to its drawn proportions."""
    size = (round(BAR_U[0] * SAMPLE_PX), round(BAR_U[1] * SAMPLE_PX))
    target = np.array([[0, 0], [size[0], 0], [size[0], size[1]], [0, size[1]]], np.float32)
    bar = cv2.warpPerspective(gray, cv2.getPerspectiveTransform(corners, target), size).astype(np.float64)
    top = round((BORDER_U + 0.2 * CELL_HEIGHT_U) * SAMPLE_PX)
    bottom = round((BORDER_U + 0.8 * CELL_HEIGHT_U) * SAMPLE_PX)
    half = 0.15 * SAMPLE_PX
    centres = (BORDER_U + 0.5 + np.arange(CELLS)) * SAMPLE_PX
    return np.array([bar[top:bottom, round(c - half) : round(c + half)].mean() for c in centres])


def _cell_bits(values: CellValues) -> tuple[int, ...] | None:
    """Lit or dark per cell, relative to the darkest and brightest; None when any cell is in between."""
    low, high = values.min(), values.max()
    if high - low < MIN_CONTRAST:
        return None
    level = (values - low) / (high - low)
    if np.any((level > AMBIGUOUS[0]) & (level < AMBIGUOUS[1])):
        return None
    return tuple(int(lit) for lit in level >= AMBIGUOUS[1])


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

    def figures(self) -> dict[str, object]:
        latency = percentiles(self.latencies_ms)
        return {
            "frames": self.frames,
            "read": len(self.latencies_ms),
            "unreadable": self.unreadable,
            "implausible": self.implausible,
            "latency_ms": {key: round(float(value), 3) for key, value in latency.items()},
        }

    def describe(self) -> str:
        return "glass-to-glass counter reader (no output)"

    def _release(self) -> None:
        pass


class PatternWindow(OwnedResource):
    """A full-screen window drawing the counter; ``show_next()`` draws the next value and keeps when.

    The screen is covered, so a status line (dark text far above the bar) tells the user how reading goes.
    """

    def __init__(self, title: str = "swapcam glass") -> None:
        if platform.system() == "Linux" and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        ):
            # Without a display, OpenCV's Qt window aborts the whole process instead of raising.
            raise SwapcamError(
                "the glass-to-glass pattern needs a screen: expected DISPLAY or WAYLAND_DISPLAY to be set, "
                "found neither"
            )
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
) -> dict[str, object]:
    """Show the counter and run the live pipeline on ``camera`` for ``seconds`` after warm-up, or to q/Esc.

    Figures: ``frames`` delivered after warm-up, of which ``read`` give ``latency_ms`` (p50, p95, p99, max,
    mean) and the others are ``unreadable`` or ``implausible``; ``values_drawn`` and ``draw_fps`` of the
    window; from the pipeline, over the whole run: ``fps``, ``frames_with_faces`` and
    ``pipeline_latency_ms`` (capture → sink, decoding included).
    """
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
        pipeline = result.figures
        return {
            "camera": source.describe(),
            "model": str(model),
            "backend": result.backend,
            **sink.figures(),
            **drawing,
            "fps": pipeline["fps"],
            "frames_with_faces": pipeline["frames_with_faces"],
            "pipeline_latency_ms": pipeline["latency_ms"],
        }


def _show_until(
    window: PatternWindow,
    sink: GlassSink,
    live: "Future[LiveResult]",
    seconds: float,
    say: Callable[[str], None],
) -> dict[str, float]:
    """Draw counters until the deadline, a quit key or the end of the pipeline; how many and how fast."""
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
            status = f"{figures['read']} of {figures['frames']} frames read - q or Esc quits"
            say(format_glass(figures))
    return {"values_drawn": drawn, "draw_fps": round(drawn / max(time.monotonic() - start, 1e-9), 1)}


def format_glass(figures: Mapping[str, Any]) -> str:
    """One line: glass-to-glass percentiles and how many frames were read."""
    latency = figures["latency_ms"]
    counts = (
        f"{figures['read']} of {figures['frames']} frames read, {figures['unreadable']} unreadable, "
        f"{figures['implausible']} implausible"
    )
    if not figures["read"]:
        return f"glass-to-glass: no frame read ({counts}): is the whole bar in the camera's view?"
    return (
        f"glass-to-glass latency p50 {latency['p50']:.1f} ms, p95 {latency['p95']:.1f} ms, "
        f"p99 {latency['p99']:.1f} ms, max {latency['max']:.1f} ms ({counts})"
    )
