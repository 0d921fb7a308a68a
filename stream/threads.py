"""One place that sizes every thread pool of a process for the cores it may use.

torch (intra- and inter-op), OpenMP, OpenBLAS, OpenCV and Numba each start a pool as wide as the machine by
default. On a 2-core machine a training step then runs several pools of two threads on two cores, and any
other busy process makes them wait on each other: five training steps measured 48 s with the defaults
against 4.9 s with one OpenMP thread on the same busy machine. So the plan counts the cores this process
may use (its affinity) less those other processes keep busy (measured over half a second when it starts),
gives OpenCV one thread, and leaves what the user set in ``OMP_NUM_THREADS`` alone. Every heavy command
calls ``size_thread_pools`` first; ONNX Runtime sessions take their thread count from the same plan.
"""

import contextlib
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType

# Read by OpenMP and BLAS when their runtime loads: set before torch, numpy or cv2 is first imported.
POOL_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


@dataclass(frozen=True)
class ThreadPlan:
    """How many threads each library may start."""

    cores: int  # cores this process may run on (its CPU affinity)
    compute: int  # torch intra-op, OpenMP, BLAS, Numba: the threads that do the arithmetic
    opencv: int
    inference: int  # ONNX Runtime intra-op threads in the live pipeline, whose other stages use the rest


def usable_cores() -> int:
    """Cores this process may run on: its affinity mask (``taskset``, cgroups), not the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def busy_cores(window: float = 0.5) -> float:
    """How many cores other processes keep busy now: the busy share of all cores over ``window`` seconds
    (from /proc/stat), times their count. Elsewhere the 1-minute load average, which lags by a minute."""
    first = _cpu_times()
    if first is None:
        try:
            return os.getloadavg()[0]
        except (AttributeError, OSError):
            return 0.0
    time.sleep(window)
    second = _cpu_times()
    assert second is not None
    busy, total = second[0] - first[0], second[1] - first[1]
    return (os.cpu_count() or 1) * busy / total if total > 0 else 0.0


def _cpu_times() -> tuple[int, int] | None:
    """(busy, total) jiffies of all cores since boot, from /proc/stat; None where it does not exist."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields[:8]) - idle, sum(fields[:8])


def plan_threads(cores: int, *, share: int = 1, busy: float = 0.0) -> ThreadPlan:
    """Threads for a process that shares ``cores`` with ``share - 1`` others like it, while other work
    keeps ``busy`` cores occupied. OpenCV gets one thread: its calls here work on single faces, where a
    pool costs more than it saves."""
    if cores < 1 or share < 1 or busy < 0:
        raise ValueError(f"cores and share must be >= 1 and busy >= 0, got {cores}, {share} and {busy}")
    free = max(1, cores - round(busy))
    compute = max(1, free // share)
    return ThreadPlan(cores=cores, compute=compute, opencv=1, inference=max(1, min(4, compute // 2)))


def export_pool_variables(plan: ThreadPlan, environment: dict[str, str] | None = None) -> None:
    """Set the pool sizes that runtimes read from the environment, unless the user set them."""
    target = os.environ if environment is None else environment
    for name in POOL_VARIABLES:
        target.setdefault(name, str(plan.compute))


def size_thread_pools(*, share: int = 1, torch_pools: bool = True) -> ThreadPlan:
    """Apply a plan to this process: environment, OpenCV, and torch when asked and installed
    (``torch_pools``: False where torch must not be imported, as in ``swapcam live`` on an ONNX model)."""
    plan = plan_threads(usable_cores(), share=share, busy=busy_cores())
    user = os.environ.get("OMP_NUM_THREADS", "")
    if user.isdigit() and int(user) > 0:
        plan = replace(plan, compute=int(user))
    export_pool_variables(plan)
    import cv2

    cv2.setNumThreads(plan.opencv)
    torch = _torch() if torch_pools else None
    if torch is not None:
        torch.set_num_threads(plan.compute)
        with contextlib.suppress(RuntimeError):  # allowed once, before any inter-op work has started
            torch.set_num_interop_threads(1)
    return plan


def _torch() -> ModuleType | None:
    """torch, or None where it is not installed (``pip install swapcam`` leaves it out; see the README)."""
    try:
        import torch
    except ModuleNotFoundError:
        return None
    return torch
