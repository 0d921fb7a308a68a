"""Crop, swap and paste back every face of a frame on one CUDA device, with one upload and one download.

Per frame only the region the faces can touch travels: the union of the faces' ROIs
(``stream.blend.face_roi``) goes to the GPU with the faces' matrices in one copy from a pinned buffer, the
crops are cut from it there, the model runs, the masks are eroded and feathered, the colours transferred,
the faces composited into the region on the GPU, and the finished region comes back into the frame. Crops
near the frame's edge repeat its edge pixels exactly as on the CPU, because the ROI is clipped to the frame.

Model, mask and colour work have fixed shapes for a given number of faces, so they are captured once per
face count as one CUDA graph and replayed: a few hundred small kernels cost one launch. Crop and composite
depend on the region's size and run as ordinary kernels.
"""

from collections.abc import Callable, Sequence
from functools import partial

import numpy as np
import torch

from stream.blend import Roi, face_roi, scaled_about_centre
from stream.blend_options import BlendOptions
from stream.gpu.colour import transfer_colour
from stream.gpu.graphs import capture
from stream.gpu.paste import both_ways, composite, crop_faces, gaussian_taps, prepare_alpha, shifted
from stream.lifecycle import OwnedResource
from stream.types import Affine, BGRFrame

# (N, 3, R, R) RGB in [0, 1] on the device → swapped (N, 3, R, R) RGB and mask (N, 1, R, R), any float type
DeviceSwap = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
# (N, 3, R, R) BGR crops in [0, 255] → (faces (N, 3, R, R) BGR in [0, 1] ready to paste, alpha (N, R, R))
FaceWork = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
# a captured graph, its static outputs and its static input
Captured = tuple[torch.cuda.CUDAGraph, tuple[torch.Tensor, torch.Tensor], torch.Tensor]


def union_roi(matrices: Sequence[Affine], size: int, frame_shape: tuple[int, ...]) -> Roi:
    """The box holding every face's ROI; empty (x0 >= x1 or y0 >= y1) when no face reaches the frame."""
    boxes = [face_roi(matrix, size, frame_shape) for matrix in matrices]
    boxes = [box for box in boxes if box[0] < box[2] and box[1] < box[3]]
    if not boxes:
        return (0, 0, 0, 0)
    x0s, y0s, x1s, y1s = zip(*boxes, strict=True)
    return min(x0s), min(y0s), max(x1s), max(y1s)


def swap_faces(
    crops: torch.Tensor, swap: DeviceSwap, options: BlendOptions, taps: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The model and the blend's per-face work: (faces to paste, their alpha) for (N, 3, R, R) BGR crops
    in [0, 255]; ``taps`` are the feather's (``paste.gaussian_taps``) on the crops' device."""
    swapped, masks = swap(crops.flip(1) / 255.0)  # BGR → RGB, the model's input
    faces = swapped.float().flip(1).clamp(0.0, 1.0)
    alpha = prepare_alpha(masks.float()[:, 0].clamp(0.0, 1.0), options.radii_px(crops.shape[-1])[0], taps)
    if options.colour == "rct":
        faces = transfer_colour(faces, crops / 255.0, alpha)
    return faces, alpha


def swap_region(
    region: torch.Tensor, both: torch.Tensor, work: FaceWork, size: int, interpolation: str
) -> None:
    """Swap the faces of ``region`` (H, W, 3) uint8 on its device, in place. ``both`` (N, 2, 2, 3), on the
    same device, holds each face's region → crop matrix and its inverse (``paste.both_ways``);
    ``interpolation`` resamples the faces into the region (``BlendOptions.interpolation``)."""
    crops = crop_faces(region.permute(2, 0, 1).float(), both[:, 1], size).round()
    faces, alpha = work(crops)
    for face, weights, matrix in zip(faces, alpha, both[:, 0], strict=True):
        composite(region, face, weights, matrix, interpolation)


class CudaSwapper(OwnedResource):
    """Owns a CUDA stream, the pinned staging buffer of the frames it swaps, and one CUDA graph of the
    model and blend work per face count. ``swap`` must be capturable: no host copies, no reads back."""

    def __init__(self, swap: DeviceSwap, size: int, options: BlendOptions, device: torch.device) -> None:
        self._size, self._device, self._interpolation = size, device, options.interpolation
        self._scale = options.scale
        self._stream = torch.cuda.Stream(device)
        self._pinned = torch.empty(0, dtype=torch.uint8).pin_memory()
        taps = gaussian_taps(options.radii_px(size)[1]).to(device)
        self._work = partial(swap_faces, swap=swap, options=options, taps=taps)
        self._graphs: dict[int, Captured] = {}
        self._closed = False

    def __call__(self, frame: BGRFrame, matrices: Sequence[Affine]) -> None:
        """Swap every face of ``frame`` in place."""
        self._check_open()
        pasted = [scaled_about_centre(matrix, self._scale, self._size) for matrix in matrices]
        x0, y0, x1, y1 = union_roi([*matrices, *pasted], self._size, frame.shape)  # cut from and pasted to
        if x1 - x0 < 2 or y1 - y0 < 2:
            return
        both = both_ways([shifted(m, x0, y0) for m in matrices], [shifted(m, x0, y0) for m in pasted])
        shape = (y1 - y0, x1 - x0, 3)
        staging = self._staging(both.nbytes + shape[0] * shape[1] * shape[2])  # one upload: matrices, region
        staging[: both.nbytes].numpy().view(np.float64)[:] = both.ravel()
        host = staging[both.nbytes :].view(shape)
        np.copyto(host.numpy(), frame[y0:y1, x0:x1])
        with torch.cuda.stream(self._stream), torch.inference_mode():
            uploaded = staging.to(self._device, non_blocking=True)
            matrices_there = uploaded[: both.nbytes].view(torch.float64).view(both.shape)
            region = uploaded[both.nbytes :].view(shape)
            swap_region(region, matrices_there, self._replay, self._size, self._interpolation)
            host.copy_(region, non_blocking=True)
        self._stream.synchronize()
        frame[y0:y1, x0:x1] = host.numpy()

    def _replay(self, crops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``swap_faces`` through the graph for this face count (captured on first use)."""
        count = len(crops)
        if count not in self._graphs:
            static_in = crops.clone()
            self._graphs[count] = (*capture(self._work, static_in), static_in)
        graph, static_out, static_in = self._graphs[count]
        static_in.copy_(crops)
        graph.replay()
        return static_out

    def warm_up(self, max_faces: int) -> None:
        """Run every face count once (captures the graphs) so the first frames are not slow."""
        size = self._size
        frame = np.full((size * 2, size * 2 * max_faces, 3), 128, np.uint8)
        for faces in range(1, max_faces + 1):
            matrices = [np.array([[1.0, 0.0, -2.0 * size * k], [0.0, 1.0, 0.0]]) for k in range(faces)]
            self(frame, matrices)

    def _staging(self, count: int) -> torch.Tensor:
        """The first ``count`` bytes of the pinned buffer, grown when needed."""
        if self._pinned.numel() < count:
            self._pinned = torch.empty(count, dtype=torch.uint8).pin_memory()
        return self._pinned[:count]

    def _release(self) -> None:
        self._stream.synchronize()
        self._graphs.clear()
        self._pinned = torch.empty(0, dtype=torch.uint8)
