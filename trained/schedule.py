"""Learning-rate schedule: constant, then a linear fall over the last part of the run.

With a fixed budget (``--steps`` or ``--minutes``) a network ends sharper when its learning rate falls at
the end: the last steps average away the noise of large updates instead of adding to it. ``decay`` is the
fraction of the run over which the rate falls, from the base rate to ``FLOOR`` of it; 0 keeps it constant.
"""

FLOOR = 0.01


def rate_at(base: float, decay: float, progress: float) -> float:
    """The learning rate at ``progress`` (0 at the start of the run, 1 at its end) of a run whose last
    ``decay`` fraction falls linearly from ``base`` to ``FLOOR * base``."""
    if decay <= 0:
        return base
    left = min(1.0, max(0.0, (1.0 - progress) / decay))  # 1 before the fall starts, 0 at the end
    return base * (FLOOR + (1.0 - FLOOR) * left)


def run_progress(step: int, steps: int | None, elapsed: float, minutes: float | None) -> float:
    """How far a run is through its budget: by steps with ``--steps``, by wall time with ``--minutes``
    (of this session: a resumed ``--minutes`` run falls again over its new minutes), 0 without a budget."""
    if steps is not None:
        return step / steps
    if minutes is not None:
        return elapsed / (minutes * 60)
    return 0.0
