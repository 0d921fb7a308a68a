"""An ONNX Runtime session on the execution providers TensorRT → CUDA → CPU, whichever load: the one place
swapcam opens ONNX Runtime, for swapcam's ``.onnx`` models (``stream.backends.ort``) and DeepFaceLab's
``.dfm`` ones (``stream.backends.dfm``).

On a GPU the call goes through IO binding: inputs are bound from host memory, the outputs are left on
the device for ONNX Runtime to allocate and copied back once (not yet run on a GPU; preallocated outputs and
a TensorRT engine cache are still to do). On a CPU the session gets a small thread count without spinning,
because the pipeline's other stages need the remaining cores. A session that ends up on the CPU although
GPU providers were installed is reported with a warning, never silently.
"""

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from stream.backends import Log
from stream.contract import TensorSpec
from stream.errors import SwapcamError
from stream.lifecycle import OwnedResource
from stream.threads import plan_threads, usable_cores

PREFERENCE = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
GPU_PROVIDERS = frozenset(PREFERENCE[:2])


def unavailable_reason(model: Path) -> str | None:
    try:
        import onnxruntime  # noqa: F401
    except ImportError as error:
        return f"onnxruntime is not installed ({error}): pip install onnxruntime"
    return None


def preferred_providers(available: list[str]) -> list[str]:
    """The providers to ask for, fastest first, among those this onnxruntime build has."""
    return [provider for provider in PREFERENCE if provider in available]


class OrtSession(OwnedResource):
    """An ONNX Runtime inference session on the fastest providers that load; owns the session."""

    def __init__(self, model: Path, log: Log, providers: list[str] | None, threads: int | None) -> None:
        """``providers``: exactly these (benchmarks compare them); default: the fastest that load.
        ``threads``: CPU intra-op threads; default: the live pipeline's share (``stream.threads``)."""
        import onnxruntime as ort

        requested = providers or preferred_providers(ort.get_available_providers())
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or plan_threads(usable_cores()).inference
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        try:
            self._session: Any = ort.InferenceSession(str(model), options, providers=requested)
        except Exception as error:  # onnxruntime raises its own Fail/InvalidProtobuf/… types
            raise SwapcamError(
                f"{model} is not a loadable ONNX model: {str(error).splitlines()[0]}"
            ) from error
        self.providers: list[str] = self._session.get_providers()
        self.on_gpu = bool(GPU_PROVIDERS & set(self.providers))
        if GPU_PROVIDERS & set(requested) and not self.on_gpu:
            warnings.warn(
                f"onnxruntime could not load {', '.join(sorted(GPU_PROVIDERS & set(requested)))}: "
                "running on the CPU (see `swapcam doctor`)",
                RuntimeWarning,
                stacklevel=3,
            )
        log(f"onnxruntime {ort.__version__}: providers {', '.join(self.providers)}")
        self._closed = False

    @property
    def metadata(self) -> dict[str, str]:
        return dict(self._session.get_modelmeta().custom_metadata_map)

    @property
    def inputs(self) -> list[Any]:
        """The graph inputs (``name``, ``shape``, ``type``), in order."""
        return list(self._session.get_inputs())

    @property
    def output_names(self) -> list[str]:
        return [item.name for item in self._session.get_outputs()]

    @property
    def input_specs(self) -> list[TensorSpec]:
        return [_spec(item) for item in self._session.get_inputs()]

    @property
    def output_specs(self) -> list[TensorSpec]:
        return [_spec(item) for item in self._session.get_outputs()]

    def run(self, feeds: Mapping[str, np.ndarray], outputs: Sequence[str]) -> list[np.ndarray]:
        self._check_open()
        if not self.on_gpu:
            return list(self._session.run(list(outputs), dict(feeds)))
        binding = self._session.io_binding()
        for name, value in feeds.items():
            binding.bind_cpu_input(name, value)
        for name in outputs:
            binding.bind_output(name, "cuda")
        self._session.run_with_iobinding(binding)
        return list(binding.copy_outputs_to_cpu())

    def _release(self) -> None:
        self._session = None


def _spec(item: Any) -> TensorSpec:
    """An ONNX Runtime input or output as the contract describes tensors: "tensor(float)" → "float32",
    dynamic dimensions by name (or "?")."""
    kind = item.type.removeprefix("tensor(").removesuffix(")")
    kind = {"float": "float32", "double": "float64"}.get(kind, kind)
    return item.name, kind, tuple(str(d) if isinstance(d, int) else str(d or "?") for d in item.shape)
