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
from dataclasses import dataclass, field

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


def percentiles(values_ms: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max/mean of a list of milliseconds (all 0.0 for an empty list)."""
    if not values_ms:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0, "mean": 0.0}
    values = np.asarray(values_ms, np.float64)
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"p50": p50, "p95": p95, "p99": p99, "max": values.max(), "mean": values.mean()}


def summarise(records: Sequence[FrameRecord], frames_read: int, dropped: int) -> dict[str, object]:
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
    return {"fps": len(recent) / window_s, "p50": latency["p50"], "p95": latency["p95"], "dropped": dropped}


def format_rolling(figures: Mapping[str, float]) -> str:
    return (
        f"{figures['fps']:5.1f} fps | latency p50 {figures['p50']:6.1f} ms p95 {figures['p95']:6.1f} ms"
        f" | dropped {figures['dropped']:.0f}"
    )


def _rounded(figures: Mapping[str, float]) -> dict[str, float]:
    return {key: round(float(value), 3) for key, value in figures.items()}


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

    def figures(self) -> dict[str, float]:
        """p50/p95/p99/max/mean like ``percentiles`` (all 0.0 when empty)."""
        if not self.total:
            return percentiles([])
        cumulative = np.cumsum(self.counts)
        found = {}
        for name, share in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
            k = int(np.searchsorted(cumulative, share * self.total))
            low = BIN_EDGES_MS[max(k - 1, 0)]
            high = BIN_EDGES_MS[min(k, len(BIN_EDGES_MS) - 1)]
            found[name] = min(float(np.sqrt(low * high)), self.max_ms)
        return {**found, "max": self.max_ms, "mean": self.sum_ms / self.total}


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

    def summary(self, frames_read: int, dropped: int) -> dict[str, object]:
        """The whole run's figures (what ``--report`` writes); frames without faces are listed up to
        ``WITHOUT_FACES_LISTED``."""
        with self._lock:
            delivered = self._counts["delivered"]
            seconds = (self._last_ns - (self._first_ns or 0)) / 1e9
            stages = {
                stage: {kind: _rounded(h.figures()) for kind, h in entry.items() if h.total}
                for stage, entry in self._stages.items()
            }
            return {
                "frames_read": frames_read,
                "frames_delivered": delivered,
                "frames_dropped": dropped,
                "frames_with_faces": self._counts["with_faces"],
                "frames_without_faces": list(self._without_faces),
                "faces": self._counts["faces"],
                "fps": round((delivered - 1) / seconds, 2) if delivered > 1 and seconds > 0 else 0.0,
                "latency_ms": _rounded(self._latency.figures()),
                "stages_ms": stages,
            }

    def timeline(self) -> list[list[float]]:
        with self._lock:
            return [list(point) for point in self._timeline]
