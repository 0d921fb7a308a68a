"""Timing a call the way every benchmark here does: warm up, then enough calls, then percentiles."""

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from stream.metrics import LatencyStats, percentiles

WARMUP_S = 0.2
MIN_SECONDS = 3.0
MIN_CALLS = 300
MAX_SAMPLES = 2000  # samples kept in a report; statistics always use every call


@dataclass(frozen=True)
class Budget:
    """Warm-up, then at least ``seconds`` and at least ``calls`` timed calls (``--quick`` shrinks it)."""

    warmup_s: float = WARMUP_S
    seconds: float = MIN_SECONDS
    calls: int = MIN_CALLS


QUICK = Budget(warmup_s=0.1, seconds=0.2, calls=30)


@dataclass(frozen=True)
class Measurement:
    """A timed call: how many calls, their statistics (``stream.metrics.LatencyStats``, the one statistics
    type), and the samples a report keeps (``thinned``)."""

    name: str
    calls: int
    stats: LatencyStats
    samples_ms: tuple[float, ...]

    def fields(self) -> dict[str, object]:
        """The bench report's fields: calls, rounded min/p50/p95/p99/max with ``_ms`` names, the samples."""
        stats = self.stats.rounded(4)
        named = {"min_ms": stats.min, "p50_ms": stats.p50, "p95_ms": stats.p95, "p99_ms": stats.p99}
        return {"calls": self.calls, **named, "max_ms": stats.max, "samples_ms": list(self.samples_ms)}


def measurement(name: str, durations_ms: np.ndarray) -> Measurement:
    """The measurement of these call durations."""
    return Measurement(name, len(durations_ms), percentiles(durations_ms), thinned(durations_ms))


def measure(name: str, call: Callable[[int], object], budget: Budget = Budget()) -> Measurement:
    """Time ``call(i)`` for i = 0, 1, 2, … (callers rotate their inputs by i) after warming up."""
    index, start = 0, time.perf_counter()
    while time.perf_counter() - start < budget.warmup_s:
        call(index)
        index += 1
    durations: list[float] = []
    total = 0.0
    while total < budget.seconds or len(durations) < budget.calls:
        begin = time.perf_counter()
        call(index)
        durations.append(time.perf_counter() - begin)
        total += durations[-1]
        index += 1
    return measurement(name, np.array(durations) * 1000)


def thinned(ms: np.ndarray) -> tuple[float, ...]:
    """At most ``MAX_SAMPLES`` values, evenly spaced through the run (in call order), rounded to 0.1 µs."""
    step = -(-len(ms) // MAX_SAMPLES)
    return tuple(round(float(v), 4) for v in ms[::step])
