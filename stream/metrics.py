"""Latency and throughput of a live run, from the timestamps every packet carries.

Per frame: how long each stage worked on it (``work``), how long it waited in the hand-off before that
stage (``wait``), and capture → sink latency (capture timestamp to the moment every sink had the frame).
The maths are pure functions over ``FrameRecord``s. A live run can last hours, so ``RunLog`` keeps no list
of every frame: running totals, latency histograms (``Histogram``, 0.5% wide bins), the last few seconds of
records for ``--stats``, and, when asked, a timeline thinned to a fixed number of points. Its memory does
not grow with the run.
"""

import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass, field

import numpy as np
from numpy.typing import NDArray

from stream.packet import FramePacket, Span

NS_PER_MS = 1e6
# Histogram bins: 0.5% wide from 1 µs to 1,000 s; values beyond either end fall in the end bins.
BIN_EDGES_MS = np.geomspace(1e-3, 1e6, 4157)
RECENT_RECORDS = 4096  # --stats looks back one second: enough for 4,000 fps
WITHOUT_FACES_LISTED = 1000  # frames without faces named in a summary (all are counted)


@dataclass(frozen=True)
class FrameRecord:
    index: int
    capture_ns: int
    sent_ns: int  # every sink has the frame
    faces: int
    dropped: int  # cumulative drops of the source before this frame
    spans: Mapping[str, Span]  # stage → (start, end) ns, in pipeline order

    @property
    def latency_ms(self) -> float:
        return (self.sent_ns - self.capture_ns) / NS_PER_MS


def record_of(packet: FramePacket, sent_ns: int) -> FrameRecord:
    return FrameRecord(
        packet.index, packet.capture_ns, sent_ns, len(packet.faces), packet.dropped, packet.spans
    )


@dataclass(frozen=True)
class LatencyStats:
    """The one statistics type of live runs and benchmarks: percentiles, extremes and mean, in ms."""

    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    max: float = 0.0
    mean: float = 0.0
    min: float = 0.0

    def rounded(self, places: int = 3) -> "LatencyStats":
        return LatencyStats(*(round(float(value), places) for value in astuple(self)))

    def to_json(self) -> dict[str, float]:
        """As live reports write it: p50, p95, p99, max, mean."""
        return {"p50": self.p50, "p95": self.p95, "p99": self.p99, "max": self.max, "mean": self.mean}


def percentiles(values_ms: Sequence[float] | NDArray[np.floating]) -> LatencyStats:
    """The statistics of a list of milliseconds (all 0.0 for an empty list)."""
    if not len(values_ms):
        return LatencyStats()
    values = np.asarray(values_ms, np.float64)
    p50, p95, p99 = (float(v) for v in np.percentile(values, [50, 95, 99]))
    return LatencyStats(p50, p95, p99, float(values.max()), float(values.mean()), float(values.min()))


@dataclass(frozen=True)
class RunFigures:
    """A live run's figures (``RunLog.summary``); ``to_json`` is what ``--report`` and the bench write."""

    frames_read: int
    frames_delivered: int
    frames_dropped: int
    frames_with_faces: int
    frames_without_faces: tuple[int, ...]  # the first WITHOUT_FACES_LISTED of them
    faces: int
    fps: float
    latency: LatencyStats  # capture → sink
    stages: Mapping[str, Mapping[str, LatencyStats]]  # stage → "work" / "wait" → statistics

    def to_json(self) -> dict[str, object]:
        return {
            "frames_read": self.frames_read,
            "frames_delivered": self.frames_delivered,
            "frames_dropped": self.frames_dropped,
            "frames_with_faces": self.frames_with_faces,
            "frames_without_faces": list(self.frames_without_faces),
            "faces": self.faces,
            "fps": self.fps,
            "latency_ms": self.latency.to_json(),
            "stages_ms": {
                stage: {kind: stats.to_json() for kind, stats in kinds.items()}
                for stage, kinds in self.stages.items()
            },
        }


def summarise(records: Sequence[FrameRecord], frames_read: int, dropped: int) -> RunFigures:
    """The whole run's figures (what ``--report`` writes), as ``RunLog.summary`` gives them."""
    log = RunLog()
    for record in records:
        log.add(record)
    return log.summary(frames_read, dropped)


def timeline(records: Sequence[FrameRecord]) -> list[list[float]]:
    """[frame index, seconds since the first delivery, capture → sink ms] per delivered frame."""
    if not records:
        return []
    first = records[0].sent_ns
    return [_point(record, first) for record in records]


def _point(record: FrameRecord, first_ns: int) -> list[float]:
    return [record.index, round((record.sent_ns - first_ns) / 1e9, 4), round(record.latency_ms, 3)]


def rolling(records: Sequence[FrameRecord], now_ns: int, window_s: float = 1.0) -> dict[str, float]:
    """fps and latency over the last ``window_s`` seconds."""
    recent = [record for record in records if now_ns - record.sent_ns <= window_s * 1e9]
    latency = percentiles([record.latency_ms for record in recent])
    dropped = float(recent[-1].dropped) if recent else 0.0
    return {"fps": len(recent) / window_s, "p50": latency.p50, "p95": latency.p95, "dropped": dropped}


def format_rolling(figures: Mapping[str, float]) -> str:
    return (
        f"{figures['fps']:5.1f} fps | latency p50 {figures['p50']:6.1f} ms p95 {figures['p95']:6.1f} ms"
        f" | dropped {figures['dropped']:.0f}"
    )


@dataclass
class Histogram:
    """A running distribution of milliseconds in fixed 0.5%-wide bins: percentiles to within 0.25%, the
    maximum and mean exact, memory constant however many values it sees."""

    counts: NDArray[np.int64] = field(default_factory=lambda: np.zeros(len(BIN_EDGES_MS) + 1, np.int64))
    total: int = 0
    sum_ms: float = 0.0
    max_ms: float = float("-inf")  # figures() reports an empty histogram as zeros

    def add(self, value_ms: float) -> None:
        self.counts[int(np.searchsorted(BIN_EDGES_MS, value_ms))] += 1
        self.total += 1
        self.sum_ms += value_ms
        self.max_ms = max(self.max_ms, value_ms)

    def figures(self) -> LatencyStats:
        """Statistics like ``percentiles`` (all 0.0 when empty; the minimum is not kept)."""
        if not self.total:
            return LatencyStats()
        cumulative = np.cumsum(self.counts)
        found = []
        for share in (0.50, 0.95, 0.99):
            k = int(np.searchsorted(cumulative, share * self.total))
            low = BIN_EDGES_MS[max(k - 1, 0)]
            high = BIN_EDGES_MS[min(k, len(BIN_EDGES_MS) - 1)]
            found.append(min(float(np.sqrt(low * high)), self.max_ms))
        p50, p95, p99 = found
        return LatencyStats(p50, p95, p99, max=self.max_ms, mean=self.sum_ms / self.total)


class RunLog:
    """Delivered frames of a live run, in constant memory: running totals and histograms for the summary,
    the most recent records for ``--stats``, and — with ``timeline_points`` — a timeline of at most that
    many points, thinned evenly over the whole run (every 2nd, 4th… frame as it grows). Thread-safe: the
    sink thread adds while the stats printer reads."""

    def __init__(self, timeline_points: int = 0) -> None:
        self._lock = threading.Lock()
        self._recent: deque[FrameRecord] = deque(maxlen=RECENT_RECORDS)
        self._latency = Histogram()
        self._stages: dict[str, dict[str, Histogram]] = {}
        self._counts = {"delivered": 0, "with_faces": 0, "faces": 0}
        self._without_faces: list[int] = []
        self._first_ns: int | None = None
        self._last_ns = 0
        self._timeline_points = timeline_points
        self._timeline: list[list[float]] = []
        self._stride = 1

    def add(self, record: FrameRecord) -> None:
        with self._lock:
            self._recent.append(record)
            self._count(record)
            self._latency.add(record.latency_ms)
            previous_end = record.capture_ns
            for stage, (start, end) in record.spans.items():
                entry = self._stages.setdefault(stage, {"work": Histogram(), "wait": Histogram()})
                entry["work"].add((end - start) / NS_PER_MS)
                if stage != "read":
                    entry["wait"].add((start - previous_end) / NS_PER_MS)
                previous_end = end
            self._keep_point(record)

    def _count(self, record: FrameRecord) -> None:
        if self._first_ns is None:
            self._first_ns = record.sent_ns
        self._last_ns = record.sent_ns
        self._counts["delivered"] += 1
        self._counts["with_faces"] += bool(record.faces)
        self._counts["faces"] += record.faces
        if not record.faces and len(self._without_faces) < WITHOUT_FACES_LISTED:
            self._without_faces.append(record.index)

    def _keep_point(self, record: FrameRecord) -> None:
        if not self._timeline_points or (self._counts["delivered"] - 1) % self._stride:
            return
        assert self._first_ns is not None
        self._timeline.append(_point(record, self._first_ns))
        if len(self._timeline) >= self._timeline_points:  # full: keep every other point from now on
            self._timeline = self._timeline[::2]
            self._stride *= 2

    def recent(self, now_ns: int, window_s: float = 1.0) -> list[FrameRecord]:
        """Records delivered within the last ``window_s`` seconds (at most ``RECENT_RECORDS``)."""
        with self._lock:
            found = []
            for record in reversed(self._recent):
                if now_ns - record.sent_ns > window_s * 1e9:
                    break
                found.append(record)
            return found[::-1]

    def summary(self, frames_read: int, dropped: int) -> RunFigures:
        """The whole run's figures; frames without faces are listed up to ``WITHOUT_FACES_LISTED``."""
        with self._lock:
            delivered = self._counts["delivered"]
            seconds = (self._last_ns - (self._first_ns or 0)) / 1e9
            stages = {
                stage: {kind: h.figures().rounded() for kind, h in entry.items() if h.total}
                for stage, entry in self._stages.items()
            }
            return RunFigures(
                frames_read=frames_read,
                frames_delivered=delivered,
                frames_dropped=dropped,
                frames_with_faces=self._counts["with_faces"],
                frames_without_faces=tuple(self._without_faces),
                faces=self._counts["faces"],
                fps=round((delivered - 1) / seconds, 2) if delivered > 1 and seconds > 0 else 0.0,
                latency=self._latency.figures().rounded(),
                stages=stages,
            )

    def timeline(self) -> list[list[float]]:
        with self._lock:
            return [list(point) for point in self._timeline]
