"""torch backend: runs a training checkpoint (or a run folder's latest) without exporting it.

The one module of ``stream`` that uses ``trained``: a checkpoint is weights for trained's model classes.
On CUDA the model runs in fp16 with channels_last, and each batch size is captured once as a CUDA graph
and replayed (static input/output tensors), which removes per-layer launch overhead. On the CPU it runs
fp32. NOT YET RUN ON A GPU in this project's CI; the CPU path is tested.
"""

from pathlib import Path
from typing import Any

from stream.backends import CropBatch, FaceBatch, Log, MaskBatch, from_model_output, to_model_input
from stream.contract import ModelInfo

DIRECTION = "a2b"  # the person in front of the camera is A; the output shows B


def unavailable_reason(model: Path) -> str | None:
    try:
        import torch  # noqa: F401
    except ImportError as error:
        return f"torch is not installed ({error}): pip install torch (see the README)"
    return None


def open_backend(model: Path, log: Log) -> "TorchBackend":
    return TorchBackend(model, log)


class TorchBackend:
    name = "torch"

    def __init__(self, model: Path, log: Log) -> None:
        import torch

        from trained.checkpoint import DECODER, load_model, model_info
        from trained.model import SwapDirection

        autoencoder, state = load_model(model)
        self._device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self._dtype = torch.float16 if self._device.type == "cuda" else torch.float32
        self.info: ModelInfo = model_info(
            state, DIRECTION, "fp16" if self._dtype == torch.float16 else "fp32"
        )
        module = SwapDirection(autoencoder, DECODER[DIRECTION]).eval().to(self._device, self._dtype)
        if self._device.type == "cuda":
            module = module.to(memory_format=torch.channels_last)
        self._module = module
        self._graphs: dict[int, tuple[Any, Any, tuple[Any, Any]]] = {}
        log(f"torch {torch.__version__} on {self._device} ({self.info.precision})")

    def swap(self, crops: CropBatch) -> tuple[FaceBatch, MaskBatch]:
        import torch

        faces = torch.from_numpy(to_model_input(crops))
        with torch.inference_mode():
            if self._device.type == "cpu":
                swapped, mask = self._module(faces)
            else:
                swapped, mask = self._replay(faces)
        return from_model_output(swapped.float().cpu().numpy(), mask.float().cpu().numpy())

    def _replay(self, faces: Any) -> tuple[Any, Any]:
        """Run through the CUDA graph captured for this batch size (captured on first use)."""
        import torch

        batch = faces.shape[0]
        if batch not in self._graphs:
            static_in = faces.to(self._device, self._dtype).contiguous(memory_format=torch.channels_last)
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                self._module(static_in)  # warm-up outside the graph, as torch.cuda.graphs requires
            torch.cuda.current_stream().wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                static_out = self._module(static_in)
            self._graphs[batch] = (graph, static_in, static_out)
        graph, static_in, static_out = self._graphs[batch]
        static_in.copy_(faces.to(self._dtype))
        graph.replay()
        return static_out

    def describe(self) -> str:
        return f"torch ({self._device}, {self.info.precision})"

    def close(self) -> None:
        self._graphs.clear()
        self._module = None
