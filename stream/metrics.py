"""Latency and throughput of a live run, from the timestamps every packet carries.

Per frame: how long each stage worked on it (``work``), how long it waited in the hand-off before that
stage (``wait``), and capture → sink latency (capture timestamp to the moment every sink had the frame).
The maths are pure functions over ``FrameRecord``s; ``RunLog`` only adds a lock so the sink thread can
append while the stats printer reads.
"""

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from stream.packet import FramePacket, Span

NS_PER_MS = 1e6


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


def stage_times(records: Sequence[FrameRecord]) -> dict[str, dict[str, list[float]]]:
    """stage → {"work": [ms...], "wait": [ms...]}; wait is the time since the previous stage ended."""
    times: dict[str, dict[str, list[float]]] = {}
    for record in records:
        previous_end = record.capture_ns
        for stage, (start, end) in record.spans.items():
            entry = times.setdefault(stage, {"work": [], "wait": []})
            entry["work"].append((end - start) / NS_PER_MS)
            if stage != "read":
                entry["wait"].append((start - previous_end) / NS_PER_MS)
            previous_end = end
    return times


def fps_of(records: Sequence[FrameRecord]) -> float:
    """Frames delivered per second between the first and the last delivery."""
    if len(records) < 2:
        return 0.0
    return (len(records) - 1) / ((records[-1].sent_ns - records[0].sent_ns) / 1e9)


def summarise(records: Sequence[FrameRecord], frames_read: int, dropped: int) -> dict[str, object]:
    """The whole run's figures (what ``--report`` writes)."""
    stages = {
        stage: {kind: _rounded(percentiles(values)) for kind, values in entry.items() if values}
        for stage, entry in stage_times(records).items()
    }
    with_faces = [record for record in records if record.faces]
    return {
        "frames_read": frames_read,
        "frames_delivered": len(records),
        "frames_dropped": dropped,
        "frames_with_faces": len(with_faces),
        "frames_without_faces": [record.index for record in records if not record.faces],
        "faces": sum(record.faces for record in records),
        "fps": round(fps_of(records), 2),
        "latency_ms": _rounded(percentiles([record.latency_ms for record in records])),
        "stages_ms": stages,
    }


def timeline(records: Sequence[FrameRecord]) -> list[list[float]]:
    """[frame index, seconds since the first delivery, capture → sink ms] per delivered frame."""
    if not records:
        return []
    first = records[0].sent_ns
    return [[r.index, round((r.sent_ns - first) / 1e9, 4), round(r.latency_ms, 3)] for r in records]


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


class RunLog:
    """Thread-safe list of delivered frames."""

    def __init__(self) -> None:
        self._records: list[FrameRecord] = []
        self._lock = threading.Lock()

    def add(self, record: FrameRecord) -> None:
        with self._lock:
            self._records.append(record)

    def records(self) -> list[FrameRecord]:
        with self._lock:
            return list(self._records)

    def recent(self, now_ns: int, window_s: float = 1.0) -> list[FrameRecord]:
        """Records delivered within the last ``window_s`` seconds (scans from the end)."""
        with self._lock:
            found = []
            for record in reversed(self._records):
                if now_ns - record.sent_ns > window_s * 1e9:
                    break
                found.append(record)
            return found[::-1]
