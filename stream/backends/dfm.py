"""DeepFaceLab/DeepFaceLive ``.dfm`` models behind the backend protocol (format: ``stream.dfm``).

Faces go in as the crops are (BGR, NHWC), scaled to [0, 1]; the swapped face comes back in BGR and its
mask is the product of the two masks, as DeepFaceLive merges by default. A model with a ``morph_value``
input gets DeepFaceLive's default 0.75 unless ``set_morph`` says otherwise. A graph with a fixed batch
size is run in batches of that size.
"""

from pathlib import Path

import numpy as np

from stream.backends import CropBatch, FaceBatch, Log, MaskBatch
from stream.backends.ort_session import OrtSession, unavailable_reason
from stream.contract import ModelInfo
from stream.dfm import DEFAULT_MORPH, FACE_INPUT, MORPH_INPUT, OUTPUTS, dfm_info, read_signature
from stream.errors import SwapcamError
from stream.lifecycle import OwnedResource

__all__ = ["DfmBackend", "open_backend", "unavailable_reason"]


def open_backend(
    model: Path, log: Log, providers: list[str] | None = None, threads: int | None = None
) -> "DfmBackend":
    return DfmBackend(model, log, providers, threads)


class DfmBackend(OwnedResource):
    """A ``.dfm`` model on ONNX Runtime; owns its session."""

    name = "onnxruntime"

    def __init__(
        self, model: Path, log: Log, providers: list[str] | None = None, threads: int | None = None
    ) -> None:
        self._session = OrtSession(model, log, providers, threads)
        try:
            inputs = [(item.name, item.shape, item.type) for item in self._session.inputs]
            self._signature = read_signature(inputs, self._session.output_names, str(model))
            self.info: ModelInfo = dfm_info(self._signature, self._session.metadata, model.stem, str(model))
        except BaseException:
            self._session.close()
            raise
        self.providers = self._session.providers
        self._morph = np.array([DEFAULT_MORPH], np.float32)
        log(f".dfm {self.info.resolution} px, faces cropped with {self.info.align_spec}")
        self._closed = False

    @property
    def has_morph(self) -> bool:
        return self._signature.morph

    @property
    def morph(self) -> float:
        return float(self._morph[0])

    def set_morph(self, value: float) -> None:
        """How far the swap leans toward the celebrity, 0..1 (AMP models' ``morph_value`` input)."""
        if not 0.0 <= value <= 1.0:
            raise SwapcamError(f"--morph must be 0..1, got {value}")
        self._morph = np.array([value], np.float32)

    def swap(self, crops: CropBatch) -> tuple[FaceBatch, MaskBatch]:
        self._check_open()
        if crops.ndim != 4 or crops.shape[3] != 3 or crops.dtype != np.uint8:
            raise ValueError(f"expected (N, R, R, 3) uint8 crops, got {crops.shape} {crops.dtype}")
        faces = crops.astype(np.float32) * np.float32(1.0 / 255.0)
        step = self._signature.fixed_batch
        if step is None:
            return self._run(faces)
        parts = [self._run_padded(faces[start : start + step], step) for start in range(0, len(faces), step)]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def _run_padded(self, faces: np.ndarray, batch: int) -> tuple[FaceBatch, MaskBatch]:
        """A graph with a fixed batch takes exactly ``batch`` faces: fill up with blank ones, drop theirs."""
        count = len(faces)
        blank = np.zeros((batch - count, *faces.shape[1:]), faces.dtype)
        swapped, masks = self._run(np.concatenate([faces, blank]) if count < batch else faces)
        return swapped[:count], masks[:count]

    def _run(self, faces: np.ndarray) -> tuple[FaceBatch, MaskBatch]:
        feeds = {FACE_INPUT: faces, **({MORPH_INPUT: self._morph} if self._signature.morph else {})}
        face_mask, celeb, celeb_mask = self._session.run(feeds, OUTPUTS)
        mask = np.clip(face_mask[..., 0] * celeb_mask[..., 0], 0.0, 1.0, dtype=np.float32)
        return np.clip(celeb, 0.0, 1.0, dtype=np.float32), mask

    def describe(self) -> str:
        morph = f", morph {self.morph:g}" if self._signature.morph else ""
        return f"onnxruntime ({self.providers[0]}, .dfm {self.info.resolution} px{morph})"

    def _release(self) -> None:
        self._session.close()
