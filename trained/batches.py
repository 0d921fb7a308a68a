"""A training step's batch of one identity, augmented on the host (OpenCV, optionally on a thread pool) or
on the training device (``trained.augment_device``), and delivered as tensors on that device.

Both ways draw the same random choices from the session's generator in the same order, so the choice
of where to augment never changes which faces, jitters and warps a step sees.
"""

from concurrent.futures import Executor

import numpy as np
import torch

from trained.augment import AugmentConfig, Batch, draw_batch, sample_batch
from trained.augment_device import DeviceFaces, augment_on_device, upload
from trained.data import FaceData

AUGMENT_ON = ("auto", "cpu", "device")  # auto: on the device when it is a GPU


def augments_on_device(choice: str, device: torch.device) -> bool:
    if choice not in AUGMENT_ON:
        raise ValueError(f"augment on must be one of {', '.join(AUGMENT_ON)}, got {choice!r}")
    return choice == "device" or (choice == "auto" and device.type == "cuda")


class DeviceUploads:
    """The face sets augmented on a device, each uploaded once and kept while in use; holds device memory
    (released with the object)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self._held: dict[str, tuple[FaceData, DeviceFaces]] = {}

    def __call__(self, name: str, data: FaceData) -> DeviceFaces:
        """``data`` on the device under ``name``: a set already held (under any name) is not uploaded again,
        and whatever ``name`` held before is let go (a distributed run's shard changes every epoch)."""
        held = next((faces for kept, faces in self._held.values() if kept is data), None)
        faces = upload(data, self.device) if held is None else held
        self._held[name] = (data, faces)
        return faces


def training_batch(
    rng: np.random.Generator,
    data: FaceData,
    other: FaceData | None,
    *,
    batch: int,
    config: AugmentConfig,
    device: torch.device,
    pool: Executor | None = None,
    uploads: DeviceUploads | None = None,
    names: tuple[str, str],
) -> dict[str, torch.Tensor]:
    """inputs, targets (N, 3, R, R) and masks, regions (N, 1, R, R) float32 on ``device``: ``batch`` faces
    of ``data`` with ``other`` as the colour-transfer reference (None: not recoloured). With ``uploads`` the
    pixels are worked on the device (``names``: what to hold ``data`` and ``other`` under), else on the
    host."""
    if uploads is None:
        return host_to_device(sample_batch(rng, data, batch, config, other, pool=pool), device)
    params = draw_batch(rng, data, batch, config, other)
    reference = None if other is None else uploads(names[1], other)
    tensors = augment_on_device(params, uploads(names[0], data), reference)
    if device.type != "cuda":
        return tensors
    return {name: tensor.contiguous(memory_format=torch.channels_last) for name, tensor in tensors.items()}


def host_to_device(batch: Batch, device: torch.device) -> dict[str, torch.Tensor]:
    arrays = {name: getattr(batch, name) for name in ("inputs", "targets", "masks", "regions")}
    if device.type != "cuda":
        return {name: torch.from_numpy(array) for name, array in arrays.items()}
    # From pinned memory the copy is a DMA the host does not wait for; kernels queued after it see the data.
    return {
        name: torch.from_numpy(array)
        .pin_memory()
        .to(device, non_blocking=True)
        .contiguous(memory_format=torch.channels_last)
        for name, array in arrays.items()
    }
