"""CUDA graph capture, one way for every caller: warm-up on a side stream, then capture."""

from collections.abc import Callable
from typing import TypeVar

import torch

Output = TypeVar("Output")


def capture(
    work: Callable[[torch.Tensor], Output], static_in: torch.Tensor
) -> tuple[torch.cuda.CUDAGraph, Output]:
    """``work(static_in)`` captured as a CUDA graph, and its static output. Three calls run first on a side
        stream, as ``torch.cuda.graphs`` requires; ``cudnn.benchmark`` is on for them and the capture only, so
    its kernel choice is recorded in the graph without changing the process's setting. Replay after
        copying new data into ``static_in``; the output tensors are overwritten by each replay."""
    side = torch.cuda.Stream(static_in.device)
    side.wait_stream(torch.cuda.current_stream())
    with torch.backends.cudnn.flags(enabled=True, benchmark=True):
        with torch.cuda.stream(side):
            for _ in range(3):
                work(static_in)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_out = work(static_in)
    return graph, static_out
