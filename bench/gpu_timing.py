"""GPU-side timing with CUDA events, split the way trtexec splits it: "GPU compute" (the model alone, input
already on the device) and "latency" (pinned host → device copy, compute, device → host copy).

Runs for the torch backend when torch sees a CUDA device; reports nothing otherwise. NOT YET RUN ON A GPU:
no machine this project was built on had one.
"""

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.inputs import Inputs
from bench.timing import Budget, Measurement, thinned
from stream.backends import to_model_input


def _event_measure(name: str, run: Callable[[], None], budget: Budget) -> Measurement:
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
    ms = np.array(durations)
    p50, p95, p99 = (float(v) for v in np.percentile(ms, [50, 95, 99]))
    return Measurement(name, len(ms), float(ms.min()), p50, p95, p99, float(ms.max()), thinned(ms))


def torch_cuda_split(
    checkpoint: Path, inputs: Inputs, batches: tuple[int, ...], budget: Budget
) -> list[dict]:
    """fp16 + channels_last, as the torch backend runs on CUDA; [] without a CUDA device."""
    import torch

    if not torch.cuda.is_available():
        return []
    from trained.checkpoint import DECODER, load_model
    from trained.model import SwapDirection

    autoencoder, _ = load_model(checkpoint)
    module = (
        SwapDirection(autoencoder, DECODER["a2b"]).eval().cuda().half().to(memory_format=torch.channels_last)
    )
    results = []
    for batch in batches:
        host = torch.from_numpy(to_model_input(inputs.crops(0, batch), np.float16)).pin_memory()
        device = host.cuda().contiguous(memory_format=torch.channels_last)
        outputs = [torch.empty((batch, c, *host.shape[2:]), dtype=torch.float16).pin_memory() for c in (3, 1)]

        def compute(device: torch.Tensor = device) -> None:
            with torch.inference_mode():
                module(device)

        def latency(host: torch.Tensor = host, outputs: list[torch.Tensor] = outputs) -> None:
            with torch.inference_mode():
                swapped, mask = module(
                    host.cuda(non_blocking=True).contiguous(memory_format=torch.channels_last)
                )
                outputs[0].copy_(swapped, non_blocking=True)
                outputs[1].copy_(mask, non_blocking=True)

        for kind, run in (("GPU compute", compute), ("latency incl. copies", latency)):
            timed = _event_measure(kind, run, budget)
            results.append({"backend": f"torch (cuda, fp16) {kind}", "batch": batch, **timed.fields()})
    return results
