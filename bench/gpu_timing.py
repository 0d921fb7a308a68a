"""GPU-side timing with CUDA events, split the way trtexec splits it: "GPU compute" (the model alone, input
already on the device) and "latency" (pinned host → device copy, compute, device → host copy), for the
torch backend as the pipeline runs it (fp16, channels_last, one CUDA graph per batch size) and, for
comparison in the same run, the same module called eagerly. Also the GPU's own ceilings, measured here, for
the physical floor: an fp16 matrix product's FLOP/s and a device-to-device copy's bytes/s.

Runs when torch sees a CUDA device; reports nothing otherwise.
"""

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bench.inputs import Inputs
from bench.timing import Budget, Measurement, measurement
from stream.backends import to_model_input

if TYPE_CHECKING:
    from trained.backend import TorchBackend


def _event_measure(name: str, run: Callable[[], object], budget: Budget) -> Measurement:
    """Time ``run()`` with CUDA events (milliseconds on the GPU's clock), after a warm-up."""
    import torch

    start_event, end_event = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    started = time.perf_counter()
    while time.perf_counter() - started < budget.warmup_s:
        run()
    torch.cuda.synchronize()
    durations: list[float] = []
    total_ms = 0.0
    while total_ms < budget.seconds * 1000 or len(durations) < budget.calls:
        start_event.record()
        run()
        end_event.record()
        end_event.synchronize()
        durations.append(start_event.elapsed_time(end_event))
        total_ms += durations[-1]
    return measurement(name, np.array(durations))


def torch_cuda_split(
    checkpoint: Path, inputs: Inputs, batches: tuple[int, ...], budget: Budget
) -> list[dict]:
    """Per batch: GPU compute through the CUDA graph, GPU compute eager, and latency incl. pinned copies
    through the graph; [] without a CUDA device."""
    import torch

    if not torch.cuda.is_available():
        return []
    from trained.backend import TorchBackend

    with TorchBackend(checkpoint, lambda message: None) as backend:
        return [entry for batch in batches for entry in _split(backend, inputs, batch, budget)]


def _split(backend: "TorchBackend", inputs: Inputs, batch: int, budget: Budget) -> list[dict]:
    import torch

    module, swap_cuda = backend.module, backend.swap_cuda
    rotating = [torch.from_numpy(to_model_input(inputs.crops(k * batch, batch))) for k in range(8)]
    hosts = [faces.pin_memory() for faces in rotating]
    devices = [faces.cuda().half().contiguous(memory_format=torch.channels_last) for faces in rotating]
    resolution = rotating[0].shape[-1]
    out_face = torch.empty((batch, 3, resolution, resolution), dtype=torch.float16).pin_memory()
    out_mask = torch.empty((batch, 1, resolution, resolution), dtype=torch.float16).pin_memory()
    turn = iter(range(1 << 62))

    def graph() -> None:
        swap_cuda(devices[next(turn) % 8])

    def eager() -> None:
        module(devices[next(turn) % 8])

    def latency() -> None:
        face, mask = swap_cuda(hosts[next(turn) % 8].cuda(non_blocking=True))
        out_face.copy_(face, non_blocking=True)
        out_mask.copy_(mask, non_blocking=True)

    runs = (("GPU compute, CUDA graph", graph), ("GPU compute, eager", eager),
            ("latency incl. pinned copies, CUDA graph", latency))  # fmt: skip
    results = []
    with torch.inference_mode():
        for kind, run in runs:
            timed = _event_measure(kind, run, budget)
            results.append({"backend": f"torch (cuda, fp16) {kind}", "batch": batch, **timed.fields()})
    return results


def gpu_ceilings() -> dict[str, float] | None:
    """{"fp16_tflops", "copy_gbps"} measured on this GPU (best of 10 after warm-up); None without CUDA.

    The matrix product is 8192³ in fp16; the copy moves 1 GiB device to device and counts bytes read plus
    bytes written, as memory bandwidth figures do."""
    import torch

    if not torch.cuda.is_available():
        return None
    side = 8192
    a, b = (torch.randn(side, side, device="cuda", dtype=torch.float16) for _ in range(2))
    source = torch.empty(1 << 30, dtype=torch.uint8, device="cuda")
    target = torch.empty_like(source)
    matmul = _best_ms(lambda: torch.mm(a, b))
    copy = _best_ms(lambda: target.copy_(source))
    return {
        "fp16_tflops": round(2 * side**3 / matmul / 1e9, 1),
        "copy_gbps": round(2 * source.numel() / copy / 1e6, 1),
    }


def _best_ms(run: Callable[[], object]) -> float:
    import torch

    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for _ in range(3):
        run()
    best = float("inf")
    for _ in range(10):
        start.record()
        run()
        end.record()
        end.synchronize()
        best = min(best, start.elapsed_time(end))
    return best
