"""The torch crop/paste-back (stream.gpu) against the CPU path it mirrors: same pixels within rounding.

These run on CPU tensors here; tests/stream/test_cuda.py runs the same code on a CUDA device when present.
"""

import functools

import numpy as np
import pytest
import torch

from stream import align, blend
from stream.blend_options import INTERPOLATIONS, BlendOptions
from stream.gpu import paste, swapper
from tests.stream.test_blend import fake_face, similarity, textured_frame


def planar(frame: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(frame).permute(2, 0, 1).float()


@pytest.mark.parametrize(
    ("angle", "scale", "centre"), [(0, 1.0, (320.0, 180.0)), (25, 0.7, (300, 170)), (-40, 0.5, (630, 10))]
)
def test_crop_faces_matches_warp_crop_including_repeated_edges(angle, scale, centre):
    frame = textured_frame(3)
    matrices = [similarity(angle, scale, centre, 128), similarity(-angle, 1.3 * scale, (200, 200), 128)]
    to_frame = torch.tensor(np.stack([align.invert_affine(matrix) for matrix in matrices]))
    crops = paste.crop_faces(planar(frame), to_frame, 128).round()
    for crop, matrix in zip(crops, matrices, strict=True):
        expected = align.warp_crop(frame, matrix, 128).astype(int)
        difference = np.abs(crop.permute(1, 2, 0).numpy().astype(int) - expected)
        assert difference.max() <= 1 and (difference > 0).mean() < 0.1


@pytest.mark.parametrize("options", [BlendOptions(), BlendOptions(erode=0, feather=0.2),
                                     BlendOptions(erode=0.1, feather=0)])  # fmt: skip
def test_prepare_alpha_matches_the_numba_kernels(options):
    masks = np.stack([fake_face(96, seed)["mask"] for seed in (1, 2)])
    masks[1, :10] = 0.3
    expected = np.stack([blend.prepare_alpha(mask, options) for mask in masks])
    erode, feather = options.radii_px(96)
    found = paste.prepare_alpha(torch.from_numpy(masks), erode, paste.gaussian_taps(feather)).numpy()
    np.testing.assert_allclose(found, expected, atol=2e-6)


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_composite_matches_the_numba_kernel(interpolation):
    face = fake_face(128, seed=5)
    alpha = blend.prepare_alpha(face["mask"], BlendOptions())
    roi = blend.face_roi(face["matrix"], 128, face["frame"].shape)
    expected = face["frame"].copy()
    cubic = interpolation == "bicubic"
    blend.composite_warped(expected, face["swapped"] * 1.2 - 0.1, alpha, face["matrix"], roi, cubic)
    frame = face["frame"].copy()
    x0, y0, x1, y1 = roi
    region = torch.from_numpy(frame[y0:y1, x0:x1].copy())
    colour = torch.from_numpy(face["swapped"] * 1.2 - 0.1).permute(2, 0, 1)
    matrix = torch.from_numpy(paste.shifted(face["matrix"], x0, y0))
    paste.composite(region, colour, torch.from_numpy(alpha), matrix, interpolation)
    frame[y0:y1, x0:x1] = region.numpy()
    difference = np.abs(frame.astype(int) - expected)
    assert difference.max() <= 1 and (difference > 0).mean() < 1e-3
    assert np.abs(frame.astype(int) - face["frame"]).max() > 50  # the face really landed


def fixed_swap(faces: list[dict]):
    """A stand-in model: returns the given faces (RGB planar) and masks for a batch of their size."""
    swapped = torch.stack([torch.from_numpy(f["swapped"][..., ::-1].copy()).permute(2, 0, 1) for f in faces])
    masks = torch.stack([torch.from_numpy(f["mask"])[None] for f in faces])
    seen = []

    def swap(inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        seen.append(inputs)
        return swapped[: len(inputs)], masks[: len(inputs)]

    return swap, seen


def cpu_paste(frame: np.ndarray, faces: list[dict], matrices: list[np.ndarray], options) -> np.ndarray:
    out = frame.copy()
    crops = [align.warp_crop(frame, matrix, 128) for matrix in matrices]  # all cut before any paste
    for face, crop, matrix in zip(faces, crops, matrices, strict=True):
        blend.paste_face(out, face["swapped"], face["mask"], crop, matrix, options)
    return out


@pytest.mark.parametrize(("colour", "scale"), [("rct", 1.0), ("none", 1.0), ("rct", 1.2)])
def test_swap_region_equals_the_cpu_crop_and_paste_for_two_overlapping_faces_and_one_at_the_edge(
    colour, scale
):
    frame = textured_frame(8)
    faces = [fake_face(128, seed) for seed in (21, 22, 23)]
    for k, face in enumerate(faces):  # faces with the contrast of a real one (RCT scales by its std)
        texture = align.warp_crop(textured_frame(30 + k), similarity(30 * k, 0.5, (320, 180), 128), 128)
        face["swapped"] = (texture / np.float32(255)).astype(np.float32)
    matrices = [similarity(10, 0.6, (300, 170), 128), similarity(-20, 0.7, (380, 200), 128),
                similarity(5, 0.8, (620, 20), 128)]  # fmt: skip
    options = BlendOptions(colour=colour, scale=scale)
    expected = cpu_paste(frame, faces, matrices, options)
    pasted = [blend.scaled_about_centre(matrix, scale, 128) for matrix in matrices]
    x0, y0, x1, y1 = swapper.union_roi([*matrices, *pasted], 128, frame.shape)
    out = frame.copy()
    region = torch.from_numpy(out[y0:y1, x0:x1].copy())
    swap, seen = fixed_swap(faces)
    shift = functools.partial(paste.shifted, x0=x0, y0=y0)
    both = torch.from_numpy(paste.both_ways([*map(shift, matrices)], [*map(shift, pasted)]))
    taps = paste.gaussian_taps(options.radii_px(128)[1])
    work = functools.partial(swapper.swap_faces, swap=swap, options=options, taps=taps)
    swapper.swap_region(region, both, work, 128, options.interpolation)
    out[y0:y1, x0:x1] = region.numpy()
    crops = [align.warp_crop(frame, matrix, 128)[..., ::-1] / 255 for matrix in matrices]
    model_input = seen[0].permute(0, 2, 3, 1).numpy()
    assert np.abs(model_input - np.stack(crops)).max() <= 1.01 / 255  # the model saw the CPU's crops
    difference = np.abs(out.astype(int) - expected)
    assert difference.max() <= 2 and difference.mean() < 0.05  # OpenCV's Lab is a table: 1-level steps
    assert np.abs(out.astype(int) - frame).max() > 50


def test_union_roi_is_empty_when_no_face_reaches_the_frame():
    away = similarity(0, 1.0, (-500, -500), 96)
    assert swapper.union_roi([away], 96, (360, 640, 3)) == (0, 0, 0, 0)
    inside = similarity(0, 1.0, (100, 100), 96)
    box = swapper.union_roi([away, inside], 96, (360, 640, 3))
    assert box == blend.face_roi(inside, 96, (360, 640, 3))


def test_composite_leaves_zero_alpha_pixels_alone_even_when_the_face_is_nan_there():
    region = torch.from_numpy(textured_frame(4, height=64, width=64))
    before = region.clone()
    face = torch.full((3, 32, 32), float("nan"))
    alpha = torch.zeros(32, 32)
    alpha[8:24, 8:24] = 1.0
    paste.composite(region, face, alpha, torch.tensor([[1.0, 0.0, -16.0], [0.0, 1.0, -16.0]]), "bicubic")
    untouched = torch.ones(64, 64, dtype=torch.bool)
    untouched[23:41, 23:41] = False  # where the alpha square (and its bilinear edge) lands
    assert torch.equal(region[untouched], before[untouched])
