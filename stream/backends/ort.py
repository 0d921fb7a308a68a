"""The ONNX Runtime backend for models that follow swapcam's contract (``stream.contract``). The session is
``stream.backends.ort_session``'s, shared with DeepFaceLab's ``.dfm`` models (``stream.backends.dfm``).
"""

from pathlib import Path

import numpy as np

from stream.backends import CropBatch, FaceBatch, Log, MaskBatch, from_model_output, to_model_input
from stream.backends.ort_session import OrtSession, unavailable_reason
from stream.contract import INPUT_NAME, OUTPUT_NAMES, ModelInfo, check_io, parse_metadata
from stream.lifecycle import OwnedResource

__all__ = ["OrtBackend", "open_backend", "unavailable_reason"]


def open_backend(
    model: Path, log: Log, providers: list[str] | None = None, threads: int | None = None
) -> "OrtBackend":
    return OrtBackend(model, log, providers, threads)


class OrtBackend(OwnedResource):
    """A model that follows swapcam's contract (``stream.contract``); owns its session."""

    name = "onnxruntime"

    def __init__(
        self, model: Path, log: Log, providers: list[str] | None = None, threads: int | None = None
    ) -> None:
        self._session = OrtSession(model, log, providers, threads)
        try:
            self.info: ModelInfo = parse_metadata(self._session.metadata, str(model))
            self._check_signature(model)
        except BaseException:
            self._session.close()
            raise
        self.providers = self._session.providers
        self._dtype = np.float16 if self.info.precision == "fp16" else np.float32
        self._closed = False

    def _check_signature(self, model: Path) -> None:
        check_io(self._session.input_specs, self._session.output_specs, self.info, str(model))

    def swap(self, crops: CropBatch) -> tuple[FaceBatch, MaskBatch]:
        self._check_open()
        swapped, mask = self._session.run({INPUT_NAME: to_model_input(crops, self._dtype)}, OUTPUT_NAMES)
        return from_model_output(swapped, mask)

    def describe(self) -> str:
        return f"onnxruntime ({self.providers[0]}, {self.info.precision})"

    def _release(self) -> None:
        self._session.close()
