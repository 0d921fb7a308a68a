"""Timing a call the way every benchmark here does: warm up, then enough calls, then percentiles."""

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

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
    name: str
    calls: int
    min_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    samples_ms: tuple[float, ...]

    def fields(self) -> dict[str, object]:
        """The report's fields: rounded statistics and every sample."""
        stats = {k: round(getattr(self, k), 4) for k in ("min_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms")}
        return {"calls": self.calls, **stats, "samples_ms": list(self.samples_ms)}


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
    ms = np.array(durations) * 1000
    p50, p95, p99 = (float(v) for v in np.percentile(ms, [50, 95, 99]))
    return Measurement(name, len(ms), float(ms.min()), p50, p95, p99, float(ms.max()), thinned(ms))


def thinned(ms: np.ndarray) -> tuple[float, ...]:
    """At most ``MAX_SAMPLES`` values, evenly spaced through the run (in call order), rounded to 0.1 µs."""
    step = -(-len(ms) // MAX_SAMPLES)
    return tuple(round(float(v), 4) for v in ms[::step])
