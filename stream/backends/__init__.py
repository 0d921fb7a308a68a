"""Inference backends: one protocol, one registry, one rule for ``--backend auto``.

A backend owns a loaded model and turns a batch of aligned crops (every face of one frame) into swapped
faces and masks; it is an owned resource (``stream.lifecycle``): a context manager, closed once, and a swap
after closing is an error. Backend modules are named in the registry and imported only when chosen, so
running an ONNX model never imports torch, and the torch backend lives with the model classes it runs
(``trained.backend``) without ``stream`` importing ``trained``. Which backend can run a model follows from
the file: ``.engine`` → TensorRT, ``.onnx`` and DeepFaceLab's ``.dfm`` → ONNX Runtime (which itself picks
TensorRT → CUDA → CPU execution providers; each kind of file has its module), a checkpoint ``.pt`` or a
training run folder → torch.
"""

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any, Protocol, TypeAlias, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from stream.choices import BACKEND_CHOICES
from stream.contract import ModelInfo
from stream.errors import SwapcamError

CropBatch: TypeAlias = NDArray[np.uint8]  # (N, R, R, 3) aligned crops, BGR
FaceBatch: TypeAlias = NDArray[np.float32]  # (N, R, R, 3) swapped faces, BGR in [0, 1]
MaskBatch: TypeAlias = NDArray[np.float32]  # (N, R, R) masks in [0, 1]
Log = Callable[[str], None]


class SwapBackend(Protocol):
    name: str
    info: ModelInfo

    def swap(self, crops: CropBatch) -> tuple[FaceBatch, MaskBatch]: ...

    def describe(self) -> str: ...

    def close(self) -> None: ...

    def __enter__(self) -> "SwapBackend": ...

    def __exit__(self, *exc_info: object) -> None: ...


@runtime_checkable
class CudaSwap(Protocol):
    """A backend that can also swap faces already on its CUDA device (the torch backend does):
    ``forward_cuda`` runs the model on device tensors and is capturable in a CUDA graph."""

    on_cuda: bool

    def forward_cuda(self, faces: Any) -> tuple[Any, Any]: ...


@runtime_checkable
class Morphing(Protocol):
    """A backend whose model can lean its swap more or less toward the target (AMP ``.dfm`` models)."""

    has_morph: bool
    morph: float

    def set_morph(self, value: float) -> None: ...


def apply_morph(backend: SwapBackend, value: float | None, log: Log) -> None:
    """``--morph``: set it on a model that has a morph input, refuse it for one that does not."""
    if isinstance(backend, Morphing) and backend.has_morph:
        if value is not None:
            backend.set_morph(value)
        log(f"morph {backend.morph:g} (--morph 0..1 changes it)")
    elif value is not None:
        raise SwapcamError(
            f"--morph needs a .dfm model with a morph_value input, and this run uses {backend.describe()}"
        )


ONNX_SUFFIXES = (".onnx", ".dfm")  # files ONNX Runtime runs: swapcam's models and DeepFaceLab's


def device_swap(backend: SwapBackend, blend_device: str) -> Callable[[Any], tuple[Any, Any]] | None:
    """The backend's on-device model when crop and paste-back should run on its CUDA GPU, else None."""
    if not (isinstance(backend, CudaSwap) and backend.on_cuda):
        if blend_device == "cuda":
            raise SwapcamError(
                f"--blend-device cuda needs a model running on a CUDA GPU (the torch backend with CUDA), "
                f"and this run uses {backend.describe()}; use --blend-device auto or cpu"
            )
        return None
    return None if blend_device == "cpu" else backend.forward_cuda


@dataclass(frozen=True)
class BackendEntry:
    """A backend by name. Its modules provide ``unavailable_reason(model) -> str | None`` and
    ``open_backend(model, log, **options)``; ``by_suffix`` names the module for kinds of file it runs
    differently (DeepFaceLab's ``.dfm``), ``module`` the one for the rest."""

    module: str
    runs: str  # what kind of model file it runs, for messages
    accepts: Callable[[Path], bool]
    by_suffix: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def module_for(self, model: Path) -> ModuleType:
        return importlib.import_module(self.by_suffix.get(model.suffix, self.module))


def is_checkpoint(path: Path) -> bool:
    """Whether ``path`` is what the torch backend runs: a checkpoint file or a training run folder."""
    return path.suffix == ".pt" or path.is_dir()


REGISTRY = MappingProxyType(
    {
        "tensorrt": BackendEntry("stream.backends.trt", ".engine files", lambda p: p.suffix == ".engine"),
        "onnxruntime": BackendEntry(
            "stream.backends.ort",
            ".onnx and .dfm files",
            lambda p: p.suffix in ONNX_SUFFIXES,
            MappingProxyType({".dfm": "stream.backends.dfm"}),
        ),
        "torch": BackendEntry("trained.backend", "checkpoints (.pt) and run folders", is_checkpoint),
    }
)
# The shipped demo checkpoint, exported to ONNX into the cache on first use (needs torch): named like the
# backends, so `swapcam live` and `swapcam eval` default to it without ``stream`` importing ``export``.
DEMO_MODEL = "export.demo:demo_onnx"


def demo_model(log: Log) -> Path:
    """The demo model as an ONNX file (exported on first use)."""
    module, function = DEMO_MODEL.split(":")
    path: Path = getattr(importlib.import_module(module), function)(log)
    return path


CHOICES = BACKEND_CHOICES  # the registry's names and auto (a test checks they agree)


@dataclass(frozen=True)
class Choice:
    name: str
    reason: str


def choose_backend(model: Path, requested: str = "auto") -> Choice:
    """The backend that will run ``model``, and why; a ``SwapcamError`` if none can."""
    if requested not in CHOICES:
        raise SwapcamError(f"--backend must be one of {', '.join(CHOICES)}, got {requested!r}")
    if not model.exists():
        raise SwapcamError(f"model {model} does not exist")
    fitting = [name for name, entry in REGISTRY.items() if entry.accepts(model)]
    if not fitting:
        kinds = "; ".join(f"{name}: {entry.runs}" for name, entry in REGISTRY.items())
        raise SwapcamError(f"{model} is not a model file swapcam runs ({kinds})")
    if requested != "auto" and requested not in fitting:
        raise SwapcamError(
            f"the {requested} backend runs {REGISTRY[requested].runs}, and {model.name} is not one; "
            f"use --backend {fitting[0]} or auto"
        )
    name = fitting[0] if requested == "auto" else requested
    reason = REGISTRY[name].module_for(model).unavailable_reason(model)
    if reason is not None:
        raise SwapcamError(f"the {name} backend cannot run {model.name}: {reason}")
    why = "asked for" if requested != "auto" else f"the backend for {REGISTRY[name].runs}"
    return Choice(name=name, reason=why)


def open_backend(model: Path, choice: Choice, log: Log, **options: Any) -> SwapBackend:
    """The chosen backend with ``model`` loaded; ``options`` go to its module's ``open_backend`` (ONNX
    Runtime's take ``providers`` and ``threads``)."""
    backend: SwapBackend = REGISTRY[choice.name].module_for(model).open_backend(model, log, **options)
    return backend


def to_model_input(crops: CropBatch, dtype: type = np.float32) -> NDArray[np.floating]:
    """(N, R, R, 3) BGR uint8 → (N, 3, R, R) RGB in [0, 1], contiguous, the contract's input."""
    if crops.ndim != 4 or crops.shape[3] != 3 or crops.dtype != np.uint8:
        raise ValueError(f"expected (N, R, R, 3) uint8 crops, got {crops.shape} {crops.dtype}")
    planar = np.ascontiguousarray(crops[..., ::-1].transpose(0, 3, 1, 2), dtype=np.float32)
    planar *= 1.0 / 255.0
    return planar.astype(dtype, copy=False)


def from_model_output(swapped: np.ndarray, mask: np.ndarray) -> tuple[FaceBatch, MaskBatch]:
    """(N, 3, R, R) RGB and (N, 1, R, R) → (N, R, R, 3) BGR and (N, R, R), float32 clipped to [0, 1]."""
    faces = np.clip(swapped[:, ::-1].transpose(0, 2, 3, 1), 0.0, 1.0, dtype=np.float32)
    return np.ascontiguousarray(faces), np.clip(mask[:, 0], 0.0, 1.0, dtype=np.float32)
