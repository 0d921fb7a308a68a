"""torch backend: runs a training checkpoint (or a run folder's latest) without exporting it.

It lives with the model classes a checkpoint holds weights for; ``stream.backends.REGISTRY`` finds it by name.
On CUDA the model runs in fp16 with channels_last, and each batch size is captured once as a CUDA graph
(warm-up on a side stream with ``cudnn.benchmark`` choosing the kernels, static input/output tensors) and
replayed, which removes per-layer launch overhead. ``swap_cuda`` takes faces already on the GPU;
``forward_cuda`` is the module alone, for the CUDA swapper (``stream.gpu``), which captures it together
with the blend's per-face work in its own graph. On the CPU it runs fp32. CI has no GPU: the CPU path is
tested there, the CUDA path by the tests that run when a CUDA device is present.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from stream.backends import CropBatch, FaceBatch, Log, MaskBatch, from_model_output, to_model_input
from stream.choices import LIVE_DIRECTION
from stream.contract import ModelInfo
from stream.lifecycle import OwnedResource
from stream.threads import plan_threads, usable_cores

if TYPE_CHECKING:
    from trained.model import SwapDirection

DIRECTION = LIVE_DIRECTION


def unavailable_reason(model: Path) -> str | None:
    try:
        import torch  # noqa: F401
    except ImportError as error:
        return f"torch is not installed ({error}): pip install torch (see the README)"
    return None


def open_backend(model: Path, log: Log) -> "TorchBackend":
    return TorchBackend(model, log)


class TorchBackend(OwnedResource):
    """A checkpoint's model in one swap direction on its device, with its CUDA stream, pinned buffers and
    graphs; closing releases them, and a swap after that is an error."""

    name = "torch"

    def __init__(self, model: Path, log: Log) -> None:
        import torch

        from trained.checkpoint import DECODER, load_model, model_info
        from trained.model import SwapDirection

        autoencoder, state = load_model(model)
        self._device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.on_cuda = self._device.type == "cuda"
        if not self.on_cuda:  # the live pipeline's share of the cores, as ONNX Runtime gets
            torch.set_num_threads(plan_threads(usable_cores()).inference)
        self._dtype = torch.float16 if self._device.type == "cuda" else torch.float32
        self.info: ModelInfo = model_info(
            state, DIRECTION, "fp16" if self._dtype == torch.float16 else "fp32"
        )
        module = SwapDirection(autoencoder, DECODER[DIRECTION]).eval().requires_grad_(False)
        module = module.to(self._device, self._dtype)
        if self.on_cuda:  # torch's own overloads of Module.to leave out its documented memory_format form
            module = module.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self._module: SwapDirection | None = module  # None once closed, freeing its memory
        self._graphs: dict[int, tuple[Any, Any, tuple[Any, Any]]] = {}
        self._pinned: dict[tuple[int, ...], tuple[Any, Any, Any]] = {}
        self._stream = torch.cuda.Stream(self._device) if self.on_cuda else None
        log(f"torch {torch.__version__} on {self._device} ({self.info.precision})")
        self._closed = False

    def swap(self, crops: CropBatch) -> tuple[FaceBatch, MaskBatch]:
        import torch

        self._check_open()
        faces = to_model_input(crops)
        if not self.on_cuda:
            with torch.inference_mode():
                swapped, mask = self._loaded()(torch.from_numpy(faces))
            return from_model_output(swapped.numpy(), mask.numpy())
        host_in, host_face, host_mask = self._host_buffers(faces.shape)
        np.copyto(host_in.numpy(), faces)
        with torch.cuda.stream(self._stream), torch.inference_mode():
            swapped, mask = self.swap_cuda(host_in.to(self._device, non_blocking=True))
            host_face.copy_(swapped, non_blocking=True)
            host_mask.copy_(mask, non_blocking=True)
        assert self._stream is not None  # made with the model on CUDA
        self._stream.synchronize()
        return from_model_output(host_face.numpy(), host_mask.numpy())

    def _host_buffers(self, shape: tuple[int, ...]) -> tuple[Any, Any, Any]:
        """Pinned (input, face, mask) host tensors for this batch shape, made once, so copies are async."""
        import torch

        if shape not in self._pinned:
            batch, _, height, width = shape
            self._pinned[shape] = (
                torch.empty(shape, dtype=torch.float32).pin_memory(),
                torch.empty((batch, 3, height, width), dtype=self._dtype).pin_memory(),
                torch.empty((batch, 1, height, width), dtype=self._dtype).pin_memory(),
            )
        return self._pinned[shape]

    def swap_cuda(self, faces: Any) -> tuple[Any, Any]:
        """(N, 3, R, R) RGB faces in [0, 1] on the GPU → (swapped, mask) through the CUDA graph captured for
        this batch size (captured on first use). The outputs are the graph's static tensors: read them before
        the next call."""
        import torch

        self._check_open()
        if not self.on_cuda:
            raise RuntimeError("swap_cuda needs the model on a CUDA device")
        batch = faces.shape[0]
        if batch not in self._graphs:
            from stream.gpu.graphs import capture

            static_in = faces.to(self._device, self._dtype).contiguous(memory_format=torch.channels_last)
            graph, static_out = capture(self._loaded(), static_in)
            self._graphs[batch] = (graph, static_in, static_out)
        graph, static_in, static_out = self._graphs[batch]
        static_in.copy_(faces)
        graph.replay()
        return static_out

    def forward_cuda(self, faces: Any) -> tuple[Any, Any]:
        """(N, 3, R, R) RGB faces in [0, 1] on the GPU → (swapped, mask), the module called directly (fp16,
        channels_last): capturable inside a caller's CUDA graph, as ``stream.gpu.swapper`` does."""
        import torch

        return self._loaded()(faces.to(self._dtype).contiguous(memory_format=torch.channels_last))

    @property
    def module(self) -> Any:
        """The loaded model (one swap direction) on its device, for benchmarks that call it directly."""
        return self._module

    def _loaded(self) -> "SwapDirection":
        """The model while the backend is open; use after close is an error."""
        self._check_open()
        assert self._module is not None  # dropped only when closing
        return self._module

    def describe(self) -> str:
        return f"torch ({self._device}, {self.info.precision})"

    def _release(self) -> None:
        if self._stream is not None:
            self._stream.synchronize()
        self._graphs.clear()
        self._pinned.clear()
        self._module = None
