"""TensorRT backend: runs a ``.engine`` built by ``swapcam export engine`` on the GPU it was built for.

Buffers are allocated once for the engine's largest batch: pinned host memory (page-locked, so copies are
asynchronous DMA) and device memory whose addresses are given to the execution context once. Each batch
size's ``execute_async_v3`` is captured once into a CUDA graph and replayed; an engine that cannot be
captured runs ``execute_async_v3`` directly. Written against the TensorRT 10 Python API and cuda-python's
runtime bindings, type-checked with mypy against tensorrt-stubs. NOT YET RUN ON HARDWARE: no machine this
project is built on can install TensorRT.
"""

import ctypes
from pathlib import Path
from typing import Any

import numpy as np

from stream.backends import CropBatch, FaceBatch, Log, MaskBatch, from_model_output, to_model_input
from stream.backends.engine_file import cuda_check, cuda_runtime, load_engine, require_tensorrt
from stream.contract import INPUT_NAME, OUTPUT_NAMES, ModelInfo, TensorSpec, check_io
from stream.errors import SwapcamError
from stream.lifecycle import OwnedResource


def unavailable_reason(model: Path) -> str | None:
    try:
        require_tensorrt()
        cuda_runtime()
    except SwapcamError as error:
        return str(error)
    return None


def open_backend(model: Path, log: Log) -> "TensorRTBackend":
    return TensorRTBackend(model, log)


def pinned_array(cudart: Any, shape: tuple[int, ...], dtype: np.dtype) -> tuple[int, np.ndarray]:
    """(pointer, NumPy view) of page-locked host memory."""
    nbytes = int(np.prod(shape)) * dtype.itemsize
    pointer = int(cuda_check(cudart.cudaMallocHost(nbytes)))
    raw = np.ctypeslib.as_array(ctypes.cast(pointer, ctypes.POINTER(ctypes.c_uint8)), shape=(nbytes,))
    return pointer, raw.view(dtype).reshape(shape)


def engine_specs(engine: Any, trt: Any) -> tuple[list[TensorSpec], list[TensorSpec]]:
    """An engine's input and output tensors as the contract describes them (dynamic dimensions, -1 in
    TensorRT, by the name "?"): TensorRT 10's I/O tensor API."""
    specs: dict[bool, list[TensorSpec]] = {True: [], False: []}
    for i in range(engine.num_io_tensors):
        name = engine.get_tensor_name(i)
        kind = np.dtype(trt.nptype(engine.get_tensor_dtype(name))).name
        shape = tuple("?" if d < 0 else str(d) for d in engine.get_tensor_shape(name))
        specs[engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT].append((name, kind, shape))
    return specs[True], specs[False]


class TensorRTBackend(OwnedResource):
    """A TensorRT engine with its execution context, CUDA stream, pinned host and device buffers and CUDA
    graphs; closing frees them, and a swap after that is an error rather than a use of freed memory."""

    name = "tensorrt"

    def __init__(self, model: Path, log: Log) -> None:
        import tensorrt as trt

        self._cudart = cudart = cuda_runtime()
        self._runtime, self._engine, recorded = load_engine(model)
        self.info = ModelInfo(**recorded["model"])
        check_io(*engine_specs(self._engine, trt), self.info, str(model))
        self._max_batch = int(recorded["inputs"][INPUT_NAME]["max"][0])
        context = self._engine.create_execution_context()
        if context is None:
            raise SwapcamError(f"TensorRT could not create an execution context for {model}")
        self._context = context
        self._stream = cuda_check(cudart.cudaStreamCreate())
        r = self.info.resolution
        shapes = {INPUT_NAME: (self._max_batch, 3, r, r), "swapped": (self._max_batch, 3, r, r)}
        shapes["mask"] = (self._max_batch, 1, r, r)
        self._host: dict[str, np.ndarray] = {}
        self._device: dict[str, int] = {}
        self._pinned: list[int] = []
        for name in (INPUT_NAME, *OUTPUT_NAMES):
            dtype = np.dtype(trt.nptype(self._engine.get_tensor_dtype(name)))
            pointer, self._host[name] = pinned_array(cudart, shapes[name], dtype)
            self._pinned.append(pointer)
            self._device[name] = int(cuda_check(cudart.cudaMalloc(self._host[name].nbytes)))
            self._context.set_tensor_address(name, self._device[name])
        self._graphs: dict[int, Any] = {}
        log(f"TensorRT {trt.__version__}: {model.name}, batch up to {self._max_batch}, {self.info.precision}")
        self._closed = False

    def swap(self, crops: CropBatch) -> tuple[FaceBatch, MaskBatch]:
        self._check_open()
        parts = [self._run(crops[i : i + self._max_batch]) for i in range(0, len(crops), self._max_batch)]
        faces, masks = zip(*parts, strict=True)
        return np.concatenate(faces), np.concatenate(masks)

    def _run(self, crops: CropBatch) -> tuple[FaceBatch, MaskBatch]:
        cudart, n = self._cudart, len(crops)
        host = self._host
        host[INPUT_NAME][:n] = to_model_input(crops, host[INPUT_NAME].dtype.type)
        self._copy(INPUT_NAME, n, cudart.cudaMemcpyKind.cudaMemcpyHostToDevice)
        self._context.set_input_shape(INPUT_NAME, host[INPUT_NAME][:n].shape)
        self._execute(n)
        for name in OUTPUT_NAMES:
            self._copy(name, n, cudart.cudaMemcpyKind.cudaMemcpyDeviceToHost)
        cuda_check(cudart.cudaStreamSynchronize(self._stream))
        return from_model_output(host["swapped"][:n], host["mask"][:n])

    def _copy(self, name: str, n: int, kind: Any) -> None:
        """Asynchronous copy of the first ``n`` items of a tensor between its host and device buffers."""
        host, device = self._host[name].ctypes.data, self._device[name]
        to_device = kind == self._cudart.cudaMemcpyKind.cudaMemcpyHostToDevice
        target, source = (device, host) if to_device else (host, device)
        nbytes = self._host[name][:n].nbytes
        cuda_check(self._cudart.cudaMemcpyAsync(target, source, nbytes, kind, self._stream))

    def _execute(self, n: int) -> None:
        """Replay the CUDA graph of batch size ``n``, capturing it on first use when TensorRT allows."""
        cudart = self._cudart
        if n not in self._graphs:
            # A first enqueue after a shape change lets TensorRT do its deferred set-up outside the capture.
            if not self._context.execute_async_v3(self._stream):
                raise SwapcamError("TensorRT failed to run the engine")
            self._graphs[n] = self._capture()
            return
        if self._graphs[n] is None:
            if not self._context.execute_async_v3(self._stream):
                raise SwapcamError("TensorRT failed to run the engine")
            return
        cuda_check(cudart.cudaGraphLaunch(self._graphs[n], self._stream))

    def _capture(self) -> Any:
        cudart = self._cudart
        mode = cudart.cudaStreamCaptureMode.cudaStreamCaptureModeThreadLocal
        cuda_check(cudart.cudaStreamBeginCapture(self._stream, mode))
        captured = self._context.execute_async_v3(self._stream)
        error, graph = cudart.cudaStreamEndCapture(self._stream)
        if not captured or int(error) != 0:
            return None
        return cuda_check(cudart.cudaGraphInstantiate(graph, 0))

    def describe(self) -> str:
        return f"tensorrt ({self.info.precision}, CUDA graph per batch size)"

    def _release(self) -> None:
        cudart = self._cudart
        for pointer in self._device.values():
            cudart.cudaFree(pointer)
        for pointer in self._pinned:
            cudart.cudaFreeHost(pointer)
        self._device, self._pinned = {}, []
        if self._stream is not None:
            cudart.cudaStreamDestroy(self._stream)
            self._stream = None
