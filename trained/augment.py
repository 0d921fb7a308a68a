"""Augmentation, all from one seeded ``numpy.random.Generator`` so that a resumed run repeats exactly.

Per sample: a random similarity jitter (rotation, scale, shift) and colour jitter applied to input and
target alike, a random horizontal flip, and the DFL-style random warp on the input only — the network
must learn to produce the clean target from a distorted view, not to copy pixels.

The defaults follow DeepFaceLab's strength (``core/imagelib/warp.py``): the warp grid has R/2, R/4 or R/8
cells, chosen per sample, its inner points displaced by 0.24 of a cell (0.12R, 0.06R or 0.03R), scale ±15%,
flips on. Weaker augmentation lets the shared encoder keep what tells the two people apart (measured in
the demo model card's ablation).
"""

from concurrent.futures import Executor
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType

import cv2
import numpy as np
from numpy.typing import NDArray

from stream.blend import transfer_colour as blend_transfer
from trained.data import FaceData

Images = NDArray[np.float32]  # (N, 3, R, R) RGB in [0, 1]
Maps = NDArray[np.float32]  # (N, 1, R, R) in [0, 1]
WarpGrid = NDArray[np.float32]  # (2, WARP_POINTS, WARP_POINTS) x and y offsets in pixels
WARP_POINTS = 9  # every warp grid is refined to 8 cells, so that grids of any cell count stack


@dataclass(frozen=True)
class AugmentConfig:
    rotation_deg: float = 10.0
    scale: float = 0.15
    shift: float = 0.05  # fraction of the crop side
    warp: float = 0.24  # std of the warp grid's inner points, fraction of one grid cell
    warp_cells: tuple[int, ...] = (2, 4, 8)  # cells per side of the warp grid, one chosen per sample
    brightness: float = 0.06
    contrast: float = 0.1
    saturation: float = 0.1
    flip: bool = True
    colour_transfer: bool = True  # recolour toward the reference identity (when the batch is given one)

    def __post_init__(self) -> None:
        if not self.warp_cells or any(not 1 <= cells < WARP_POINTS for cells in self.warp_cells):
            raise ValueError(f"warp cells must be 1..{WARP_POINTS - 1} per side, got {self.warp_cells}")


@dataclass(frozen=True)
class Batch:
    inputs: Images  # warped, what the encoder sees
    targets: Images  # unwarped
    masks: Maps  # face hull of the target
    regions: Maps  # eyes and mouth of the target


@dataclass(frozen=True)
class SampleParams:
    """Every random choice behind one augmented sample."""

    index: int  # the face drawn
    reference: int | None  # the colour-transfer reference's face, None without colour transfer
    colour: tuple[float, float, float]  # brightness, contrast, saturation
    similarity: NDArray[np.float64]  # (2, 3) affine matrix
    flip: bool
    warp: WarpGrid


def random_similarity(rng: np.random.Generator, size: int, config: AugmentConfig) -> NDArray[np.float64]:
    angle = rng.uniform(-config.rotation_deg, config.rotation_deg)
    scale = 1.0 + rng.uniform(-config.scale, config.scale)
    matrix = np.asarray(cv2.getRotationMatrix2D((size / 2, size / 2), angle, scale), np.float64)  # (2, 3)
    matrix[:, 2] += rng.uniform(-config.shift, config.shift, 2) * size
    return matrix


def random_warp_grid(rng: np.random.Generator, size: int, strength: float, cells: int = 4) -> WarpGrid:
    """Offsets of a grid of ``cells`` x ``cells`` cells (edges pinned, inner points displaced by
    ``strength`` of a cell), refined linearly to ``WARP_POINTS`` per side; ``warp_maps`` upsamples it to a
    smooth displacement field."""
    grid = rng.normal(0.0, strength * size / cells, (2, cells + 1, cells + 1))
    grid[:, [0, -1], :] = 0.0
    grid[:, :, [0, -1]] = 0.0
    refine = _linear_weights(cells + 1, WARP_POINTS)
    return (refine @ grid @ refine.T).astype(np.float32)


def _linear_weights(points_in: int, points_out: int) -> NDArray[np.float64]:
    """(points_out, points_in): linear interpolation between two grids over the same span."""
    positions = np.linspace(0.0, points_in - 1, points_out)
    basis = np.eye(points_in)
    return np.stack([np.interp(positions, np.arange(points_in), basis[i]) for i in range(points_in)], 1)


def warp_maps(grid: WarpGrid, size: int) -> tuple[np.ndarray, np.ndarray]:
    dx, dy = (cv2.resize(g, (size, size), interpolation=cv2.INTER_CUBIC) for g in grid)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    return xs + dx, ys + dy


def jitter_colour(rng: np.random.Generator, config: AugmentConfig) -> tuple[float, float, float]:
    return (
        rng.uniform(-config.brightness, config.brightness),
        1.0 + rng.uniform(-config.contrast, config.contrast),
        1.0 + rng.uniform(-config.saturation, config.saturation),
    )


def apply_colour(
    image: NDArray[np.float32], brightness: float, contrast: float, saturation: float
) -> np.ndarray:
    grey = image.mean(axis=2, keepdims=True)
    image = grey + (image - grey) * saturation
    image = (image - image.mean()) * contrast + image.mean() + brightness
    return np.clip(image, 0.0, 1.0)


def transfer_colour(source: NDArray[np.float32], reference: NDArray[np.float32]) -> NDArray[np.float32]:
    """Reinhard colour transfer of RGB faces in [0, 1]: ``source`` with the Lab mean and std of
    ``reference``, by the live blend's own function with every pixel weighed alike, clipped to [0, 1] — as
    ``trained.augment_device`` does it on a GPU with ``stream.gpu.colour``."""
    weights = np.ones(source.shape[:2], np.float32)
    bgr = blend_transfer(
        np.ascontiguousarray(source[..., ::-1]), np.ascontiguousarray(reference[..., ::-1]), weights
    )
    return np.clip(bgr[..., ::-1], 0.0, 1.0)


def draw_batch(
    rng: np.random.Generator, data: FaceData, batch: int, config: AugmentConfig, other: FaceData | None = None
) -> list[SampleParams]:
    """Every random choice of a batch, in a fixed order: a generator state and the options fix the batch."""
    size = data.faces.shape[1]
    picks = rng.integers(0, len(data), batch).tolist()
    references: list[int | None] = [None] * batch
    if other is not None and config.colour_transfer:
        references = rng.integers(0, len(other), batch).tolist()
    return [
        _draw_sample(rng, index, reference, size, config)
        for index, reference in zip(picks, references, strict=True)
    ]


def _draw_sample(
    rng: np.random.Generator, index: int, reference: int | None, size: int, config: AugmentConfig
) -> SampleParams:
    # The order of these draws decides what a seed or a saved generator state means: a resumed run
    # repeats the uninterrupted one only while it stays the same.
    colour = jitter_colour(rng, config)
    similarity = random_similarity(rng, size, config)
    flip = bool(config.flip and rng.random() < 0.5)
    cells = config.warp_cells[0] if len(config.warp_cells) == 1 else int(rng.choice(config.warp_cells))
    warp = random_warp_grid(rng, size, config.warp, cells)
    return SampleParams(index, reference, colour, similarity, flip, warp)


def augment_sample(
    params: SampleParams, data: FaceData, other: FaceData | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One sample as (warped input, target, mask, regions): (R, R, 3) RGB and (R, R) maps, float32."""
    size = data.faces.shape[1]
    face = data.faces[params.index].astype(np.float32) / 255.0
    if params.reference is not None and other is not None:
        face = transfer_colour(face, other.faces[params.reference].astype(np.float32) / 255.0)
    face = apply_colour(face, *params.colour)
    target, mask, region = (
        _geometry(image, params.similarity, params.flip, size)
        for image in (
            face,
            data.masks[params.index].astype(np.float32) / 255.0,
            data.regions[params.index].astype(np.float32) / 255.0,
        )
    )
    map_x, map_y = warp_maps(params.warp, size)
    warped = cv2.remap(target, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return warped, target, mask, region


def sample_batch(
    rng: np.random.Generator,
    data: FaceData,
    batch: int,
    config: AugmentConfig,
    other: FaceData | None = None,
    *,
    pool: Executor | None = None,
) -> Batch:
    """Draw ``batch`` faces with replacement and augment them; ``other`` is the colour-transfer reference.

    With a ``pool`` the samples are augmented on its workers; the batch is the same bit for bit.
    """
    params = draw_batch(rng, data, batch, config, other)
    augment = partial(augment_sample, data=data, other=other)
    samples = list(map(augment, params) if pool is None else pool.map(augment, params))
    inputs, targets, masks, regions = zip(*samples, strict=True)
    return Batch(
        inputs=np.stack(inputs).transpose(0, 3, 1, 2),
        targets=np.stack(targets).transpose(0, 3, 1, 2),
        masks=np.stack(masks)[:, None],
        regions=np.stack(regions)[:, None],
    )


def _geometry(image: np.ndarray, matrix: np.ndarray, flip: bool, size: int) -> np.ndarray:
    out = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out[:, ::-1].copy() if flip else out


# ``swapcam train --augment``: DeepFaceLab's strength (the default), or the first demo model's lighter one
# (warp 0.03 of the side on a 4-cell grid, scale ±5%). Flips are chosen apart (--no-flip).
AUGMENT_STRENGTHS = MappingProxyType({
    "dfl": AugmentConfig(),
    "light": AugmentConfig(scale=0.05, warp=0.12, warp_cells=(4,)),
})  # fmt: skip
