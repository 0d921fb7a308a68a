"""The augmentation of ``trained.augment`` in torch, batched, on the device that trains.

The random choices are the same: ``draw_batch`` draws them on the host from the session's generator, so a
seed or a saved generator state means the same batches whichever device applies them, and a resumed run
repeats exactly. Only the pixel work moves: faces, masks and regions are uploaded once as uint8, and each
batch is gathered, colour-transferred, colour-jittered, warped and flipped there — on a GPU no thread of
the host touches a pixel. Results match the OpenCV path to interpolation differences (the tests measure
them): bilinear sampling by ``grid_sample`` instead of ``cv2.warpAffine``/``cv2.remap``, a bicubic upsampling
of the warp grid by ``F.interpolate`` instead of ``cv2.resize``, and Lab by formula instead of OpenCV's table.
"""

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from stream.align import invert_affine
from stream.gpu.colour import transfer_colour
from stream.gpu.paste import sample_at, warp_images
from trained.augment import SampleParams
from trained.data import FaceData

Tensors = dict[str, torch.Tensor]  # inputs, targets (N, 3, R, R) RGB; masks, regions (N, 1, R, R)


@dataclass(frozen=True)
class DeviceFaces:
    """One identity's faces on a device, uint8: faces (M, 3, R, R) RGB, masks and regions (M, 1, R, R)."""

    faces: torch.Tensor
    masks: torch.Tensor
    regions: torch.Tensor


def upload(data: FaceData, device: torch.device) -> DeviceFaces:
    def put(array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(array)).to(device)

    return DeviceFaces(
        faces=put(data.faces.transpose(0, 3, 1, 2)),
        masks=put(data.masks[:, None]),
        regions=put(data.regions[:, None]),
    )


def jitter_colour(images: torch.Tensor, colour: torch.Tensor) -> torch.Tensor:
    """``trained.augment.apply_colour`` per image; ``colour`` (N, 3): brightness, contrast, saturation."""
    brightness, contrast, saturation = (colour[:, i].view(-1, 1, 1, 1) for i in range(3))
    grey = images.mean(dim=1, keepdim=True)
    images = grey + (images - grey) * saturation
    mean = images.mean(dim=(1, 2, 3), keepdim=True)
    return ((images - mean) * contrast + mean + brightness).clamp(0.0, 1.0)


def warp_fields(grids: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Source pixel coordinates (N, R, R) x and y of the random warp: ``grids`` (N, 2, 5, 5) of offsets
    upsampled bicubically (half-pixel centres, edges clamped, as ``cv2.resize`` with ``INTER_CUBIC``)."""
    offsets = F.interpolate(grids, size=(size, size), mode="bicubic", align_corners=False)
    steps = torch.arange(size, device=grids.device, dtype=grids.dtype)
    ys, xs = torch.meshgrid(steps, steps, indexing="ij")
    return xs + offsets[:, 0], ys + offsets[:, 1]


def augment_on_device(params: list[SampleParams], data: DeviceFaces, other: DeviceFaces | None) -> Tensors:
    """The batch ``trained.augment.sample_batch`` makes from ``params``, as float32 tensors on the data's
    device; ``other`` is the colour-transfer reference (needed when ``params`` name references)."""
    device, size = data.faces.device, data.faces.shape[-1]
    index = torch.tensor([p.index for p in params], device=device)
    faces = data.faces[index].float() / 255.0
    referenced = [i for i, p in enumerate(params) if p.reference is not None]
    if referenced and other is not None:
        chosen = torch.tensor(referenced, device=device)
        references = other.faces[torch.tensor([params[i].reference for i in referenced], device=device)]
        bgr = transfer_colour(
            faces[chosen].flip(1), references.float().flip(1) / 255.0, torch.ones_like(faces[chosen, 0])
        )
        faces = faces.index_copy(0, chosen, bgr.flip(1))
    faces = jitter_colour(faces, torch.tensor([p.colour for p in params], device=device, dtype=torch.float32))
    to_source = torch.from_numpy(np.stack([invert_affine(p.similarity) for p in params])).to(device)
    stacked = torch.cat(
        [faces, data.masks[index].float() / 255.0, data.regions[index].float() / 255.0], dim=1
    )
    geometry = warp_images(stacked, to_source, size)
    flips = torch.tensor([p.flip for p in params], device=device).view(-1, 1, 1, 1)
    geometry = torch.where(flips, geometry.flip(-1), geometry)
    grids = torch.from_numpy(np.stack([p.warp for p in params])).to(device)
    x, y = warp_fields(grids, size)
    targets = geometry[:, :3].contiguous()
    return {
        "inputs": sample_at(targets, x, y),
        "targets": targets,
        "masks": geometry[:, 3:4].contiguous(),
        "regions": geometry[:, 4:5].contiguous(),
    }
