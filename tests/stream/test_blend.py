import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from stream import align, blend, quality
from stream.blend_options import BlendOptions
from stream.landmarks import FaceLandmarker

# NumPy references: straightforward 2-D (not separable) formulations of what each kernel promises.


def reference_erode(mask: np.ndarray, radius: int) -> np.ndarray:
    padded = np.pad(mask.astype(np.float64), radius)
    return sliding_window_view(padded, (2 * radius + 1, 2 * radius + 1)).min(axis=(2, 3))


def gaussian(radius: int) -> np.ndarray:
    if radius == 0:
        return np.ones(1)
    sigma = radius / 3
    taps = np.exp(-(np.arange(-radius, radius + 1) ** 2) / (2 * sigma**2))
    return taps / taps.sum()


def reference_feather(mask: np.ndarray, radius: int) -> np.ndarray:
    padded = np.pad(mask.astype(np.float64), radius)
    kernel = np.outer(gaussian(radius), gaussian(radius))
    return np.einsum("yxij,ij->yx", sliding_window_view(padded, kernel.shape), kernel)


def reference_match_colour(face_lab: np.ndarray, crop_lab: np.ndarray, weights: np.ndarray) -> np.ndarray:
    def stats(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean = np.average(image, axis=(0, 1), weights=np.repeat(weights[..., None], 3, axis=2))
        variance = (weights[..., None] * (image - mean) ** 2).sum(axis=(0, 1)) / weights.sum()
        return mean, np.sqrt(variance)

    face, crop = face_lab.astype(np.float64), crop_lab.astype(np.float64)
    (face_mean, face_std), (crop_mean, crop_std) = stats(face), stats(crop)
    return (face - face_mean) * (crop_std / face_std) + crop_mean


def sample_bilinear(image: np.ndarray, u: np.ndarray, v: np.ndarray, zero_outside: bool) -> np.ndarray:
    """image (R, R, ...) at float positions; outside it zeros or, otherwise, the nearest edge pixel."""
    size = image.shape[0]
    i, j = np.floor(u).astype(int), np.floor(v).astype(int)
    fu, fv = u - i, v - j
    if image.ndim == 3:
        fu, fv = fu[..., None], fv[..., None]
    total = np.zeros(())
    for di, dj, weight in (
        (0, 0, (1 - fu) * (1 - fv)),
        (1, 0, fu * (1 - fv)),
        (0, 1, (1 - fu) * fv),
        (1, 1, fu * fv),
    ):
        ii, jj = i + di, j + dj
        value = image[np.clip(jj, 0, size - 1), np.clip(ii, 0, size - 1)].astype(np.float64)
        if zero_outside:
            inside = (ii >= 0) & (ii < size) & (jj >= 0) & (jj < size)
            value = value * (inside[..., None] if image.ndim == 3 else inside)
        total = total + weight * value
    return total


def keys_kernel(x: np.ndarray, a: float = -0.75) -> np.ndarray:
    """Keys' cubic convolution kernel, piecewise in |x| (OpenCV's INTER_CUBIC and torch use a = -0.75)."""
    x = np.abs(x)
    near = (a + 2) * x**3 - (a + 3) * x**2 + 1
    far = a * x**3 - 5 * a * x**2 + 8 * a * x - 4 * a
    return np.where(x <= 1, near, np.where(x < 2, far, 0.0))


def sample_bicubic(image: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """image (R, R, 3) at float positions by Keys' kernel over 4 x 4 samples, edge pixels repeated."""
    size = image.shape[0]
    i, j = np.floor(u).astype(int), np.floor(v).astype(int)
    total = np.zeros(())
    for dj in (-1, 0, 1, 2):
        for di in (-1, 0, 1, 2):
            weight = (keys_kernel(u - (i + di)) * keys_kernel(v - (j + dj)))[..., None]
            total = total + weight * image[np.clip(j + dj, 0, size - 1), np.clip(i + di, 0, size - 1)]
    return total


def reference_composite(frame, face, alpha, matrix, roi, cubic=True) -> np.ndarray:
    x0, y0, x1, y1 = roi
    out = frame.copy()
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    u = matrix[0, 0] * xs + matrix[0, 1] * ys + matrix[0, 2]
    v = matrix[1, 0] * xs + matrix[1, 1] * ys + matrix[1, 2]
    weight = np.clip(sample_bilinear(alpha, u, v, zero_outside=True), 0.0, 1.0)[..., None]
    sampled = sample_bicubic(face, u, v) if cubic else sample_bilinear(face, u, v, zero_outside=False)
    colour = np.clip(sampled, 0.0, 1.0)
    region = frame[y0:y1, x0:x1].astype(np.float64)
    blended = np.minimum(np.floor(weight * 255 * colour + (1 - weight) * region + 0.5), 255)
    out[y0:y1, x0:x1] = np.where(weight > 0, blended, region).astype(np.uint8)
    return out


def similarity(angle_deg: float, scale: float, centre_frame: tuple[float, float], size: int) -> np.ndarray:
    """Frame → crop similarity that puts ``centre_frame`` at the crop centre."""
    a = np.deg2rad(angle_deg)
    linear = scale * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return np.hstack([linear, (size / 2 - linear @ centre_frame)[:, None]])


def textured_frame(seed: int, noise: float = 4.0, height: int = 360, width: int = 640) -> np.ndarray:
    """Smooth colour waves plus some noise: every small shift or blur of it is visible."""
    ys, xs = np.mgrid[:height, :width]
    waves = [np.sin(xs / (7 + 3 * c) + c) * np.cos(ys / (11 + 2 * c)) for c in range(3)]
    jitter = np.random.default_rng(seed).normal(0, noise, (height, width, 3))
    return np.clip(128 + 90 * np.stack(waves, axis=2) + jitter, 0, 255).astype(np.uint8)


def ellipse_mask(size: int) -> np.ndarray:
    mask = np.zeros((size, size), np.float32)
    cv2.ellipse(mask, (size // 2, size // 2), (int(size * 0.38), int(size * 0.45)), 0, 0, 360, (1.0,), -1)
    return mask


def fake_face(size: int, seed: int) -> dict:
    """A ~200 px face on a 640x360 frame, its matrix fitted by ``align.crop_matrix`` on fake landmarks."""
    spec = align.AlignSpec("whole_face", size)
    truth = similarity(12, size / 200, (300, 170), size)
    landmarks = np.zeros((468, 2), np.float32)
    to_frame = align.invert_affine(truth)
    landmarks[list(align.STABLE_INDICES)] = align.transform_points(align.template_points(spec), to_frame)
    matrix = align.crop_matrix(landmarks, spec)
    frame = textured_frame(seed)
    rng = np.random.default_rng(seed)
    swapped = cv2.GaussianBlur(rng.random((size, size, 3), dtype=np.float32), (0, 0), 3) * 0.6 + 0.2
    return {
        "frame": frame,
        "swapped": swapped,
        "mask": ellipse_mask(size),
        "crop": align.warp_crop(frame, matrix, size),
        "matrix": matrix,
    }


@pytest.mark.parametrize(
    "kwargs", [{"erode": -0.01}, {"erode": 0.3}, {"feather": float("nan")}, {"feather": 1}, {"colour": "lab"}]
)
def test_blend_options_reject_bad_values(kwargs):
    with pytest.raises(ValueError, match="got"):
        BlendOptions(**kwargs)


def test_blend_options_scale_radii_with_the_crop():
    options = BlendOptions()
    assert options.radii_px(128) == (4, 10)
    assert options.radii_px(256) == (8, 20)
    assert BlendOptions(erode=0, feather=0).radii_px(96) == (0, 0)


@pytest.mark.parametrize(("size", "radius"), [(64, 0), (64, 1), (96, 3), (128, 7)])
def test_erode_matches_reference(size, radius):
    mask = np.random.default_rng(size + radius).random((size, size), dtype=np.float32)
    np.testing.assert_array_equal(blend.erode_mask(mask, radius), reference_erode(mask, radius))


def test_erode_of_an_all_ones_mask_leaves_a_square_inset_by_the_radius():
    eroded = blend.erode_mask(np.ones((64, 64), np.float32), 5)
    expected = np.zeros((64, 64))
    expected[5:59, 5:59] = 1.0
    np.testing.assert_array_equal(eroded, expected)


@pytest.mark.parametrize(("size", "radius"), [(64, 0), (64, 1), (96, 6), (128, 10)])
def test_feather_matches_reference(size, radius):
    mask = np.random.default_rng(size * radius).random((size, size), dtype=np.float32)
    np.testing.assert_allclose(blend.feather_mask(mask, radius), reference_feather(mask, radius), atol=1e-6)


def test_feather_spreads_an_impulse_into_a_gaussian_of_sigma_a_third_of_the_radius():
    radius, centre = 9, 32
    impulse = np.zeros((64, 64), np.float32)
    impulse[centre, centre] = 1.0
    spread = blend.feather_mask(impulse, radius)
    offsets = np.arange(-radius, radius + 1)
    profile = spread[centre, centre + offsets] / spread[centre, centre]
    np.testing.assert_allclose(profile, np.exp(-(offsets**2) / (2 * (radius / 3) ** 2)), rtol=1e-5)
    assert spread[centre, centre + radius + 1] == 0.0
    assert spread.sum() == pytest.approx(1.0, abs=1e-5)


def test_feather_keeps_the_inside_of_a_full_mask_and_fades_it_at_the_crop_edge():
    feathered = blend.feather_mask(np.ones((64, 64), np.float32), 8)
    np.testing.assert_allclose(feathered[8:56, 8:56], 1.0, atol=1e-6)
    edge_row = feathered[32, :9]
    assert 0.5 < edge_row[0] < 0.6 and np.all(np.diff(edge_row) > 0)


def lab_pair(seed: int, size: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    face = cv2.cvtColor(rng.random((size, size, 3), dtype=np.float32), cv2.COLOR_BGR2Lab)
    crop = cv2.cvtColor(rng.random((size, size, 3), dtype=np.float32) ** 2, cv2.COLOR_BGR2Lab)
    weights = (rng.random((size, size)) * (rng.random((size, size)) > 0.3)).astype(np.float32)
    return face, crop, weights


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_match_colour_matches_reference(seed):
    face, crop, weights = lab_pair(seed)
    expected = reference_match_colour(face, crop, weights)
    blend.match_colour_lab(face, crop, weights)
    np.testing.assert_allclose(face, expected, atol=2e-3)


def test_match_colour_undoes_a_per_channel_affine_change_exactly():
    _, crop, weights = lab_pair(3)
    face = crop * np.float32([1.7, 0.5, 2.5]) + np.float32([-20, 6, 3])
    blend.match_colour_lab(face, crop, weights)
    np.testing.assert_allclose(face, crop, atol=2e-3)


def test_match_colour_measures_only_where_the_weights_are_positive():
    face, crop, weights = lab_pair(4)
    repainted = crop.copy()
    repainted[weights == 0] = [90.0, -60.0, 70.0]
    first, second = face.copy(), face.copy()
    blend.match_colour_lab(first, crop, weights)
    blend.match_colour_lab(second, repainted, weights)
    np.testing.assert_allclose(first, second, atol=1e-4)
    repainted[weights > 0] += 5.0
    blend.match_colour_lab(second, repainted, weights)
    assert np.abs(second - first).max() > 4.0


def test_match_colour_gives_a_flat_face_the_crop_mean_and_ignores_zero_weights():
    _, crop, weights = lab_pair(5)
    flat = np.full_like(crop, 40.0)
    blend.match_colour_lab(flat, crop, weights)
    expected = np.average(crop.reshape(-1, 3), axis=0, weights=weights.ravel())
    np.testing.assert_allclose(flat, np.broadcast_to(expected, flat.shape), atol=1e-3)
    untouched = crop.copy()
    blend.match_colour_lab(untouched, flat, np.zeros_like(weights))
    np.testing.assert_array_equal(untouched, crop)


def test_transfer_colour_onto_a_plain_crop_paints_the_face_that_colour():
    rng = np.random.default_rng(6)
    swapped = rng.random((96, 96, 3), dtype=np.float32)
    crop = np.full((96, 96, 3), (40, 120, 200), np.uint8)
    result = blend.transfer_colour(swapped, crop, ellipse_mask(96))
    np.testing.assert_allclose(result, np.broadcast_to(crop / 255, result.shape), atol=2e-3)


@pytest.mark.parametrize("cubic", [True, False])
@pytest.mark.parametrize(
    ("angle", "scale", "centre"),
    [(0, 1.0, (100.0, 80.0)), (17, 0.6, (320.0, 180.0)), (-40, 0.45, (30.0, 350.0)), (180, 1.3, (600, 20))],
)
def test_composite_matches_reference(angle, scale, centre, cubic):
    rng = np.random.default_rng(int(angle) + 100)
    size = 96
    frame = rng.integers(0, 256, (360, 640, 3), dtype=np.uint8)
    face = rng.uniform(-0.1, 1.1, (size, size, 3)).astype(np.float32)
    alpha = (rng.random((size, size)) * (rng.random((size, size)) > 0.2)).astype(np.float32)
    matrix = similarity(angle, scale, centre, size)
    roi = blend.face_roi(matrix, size, frame.shape)
    expected = reference_composite(frame, face, alpha, matrix, roi, cubic)
    assert (expected != frame).mean() > 0.01
    blend.composite_warped(frame, face, alpha, matrix, roi, cubic)
    difference = np.abs(frame.astype(int) - expected)
    assert difference.max() <= 1 and (difference > 0).mean() < 1e-3


@pytest.mark.parametrize("cubic", [True, False])
def test_composite_with_an_integer_shift_copies_the_face_exactly(cubic):
    rng = np.random.default_rng(7)
    face = rng.random((64, 64, 3), dtype=np.float32)
    frame = np.zeros((360, 640, 3), np.uint8)
    matrix = np.array([[1.0, 0.0, -200.0], [0.0, 1.0, -100.0]])
    blend.composite_warped(frame, face, np.ones((64, 64), np.float32), matrix, (0, 0, 640, 360), cubic)
    expected = np.zeros_like(frame)
    expected[100:164, 200:264] = np.floor(face * 255 + 0.5)
    np.testing.assert_array_equal(frame, expected)


def test_composite_half_a_pixel_off_averages_neighbours_and_half_alpha_mixes():
    rng = np.random.default_rng(8)
    face = rng.random((64, 64, 3), dtype=np.float32)
    frame = np.full((100, 100, 3), 100, np.uint8)
    matrix = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.0]])
    blend.composite_warped(frame, face, np.full((64, 64), 0.5, np.float32), matrix, (0, 0, 100, 100), False)
    mixed = (face[:, :-1].astype(np.float64) + face[:, 1:]) / 2
    np.testing.assert_array_equal(frame[:64, :63], np.floor(0.5 * 255 * mixed + 50 + 0.5))


def test_paste_back_puts_a_crop_where_align_cut_it_from():
    frame = textured_frame(9, noise=0.0)
    matrix = similarity(25, 0.7, (320, 170), 128)
    crop = align.warp_crop(frame, matrix, 128)
    options = BlendOptions(erode=0, feather=0, colour="none")

    def pasted_error(paste_matrix: np.ndarray) -> float:
        canvas = np.zeros_like(frame)
        blend.paste_face(
            canvas, crop / np.float32(255), np.ones((128, 128), np.float32), crop, paste_matrix, options
        )
        inside = (
            cv2.warpAffine(np.ones((128, 128), np.float32), align.invert_affine(matrix), (640, 360)) > 0.999
        )
        return float(np.abs(canvas.astype(float) - frame)[inside].mean())

    error, half_pixel_off = pasted_error(matrix), pasted_error(matrix + np.array([[0, 0, 0.5], [0, 0, 0.5]]))
    assert error < 0.5 and half_pixel_off > 2.0


@pytest.mark.parametrize("scale", [0.8, 1.0, 1.25])
def test_face_scale_grows_the_pasted_face_about_the_crops_centre(scale):
    face = np.zeros((64, 64, 3), np.float32)
    face[31:34, 40:43] = 1.0  # a bright square centred on crop pixel (41, 32); the centre is (31.5, 31.5)
    frame = np.zeros((300, 300, 3), np.uint8)
    matrix = np.array(
        [[1.0, 0.0, -100.0], [0.0, 1.0, -100.0]]
    )  # crop (u, v) sits at frame (u + 100, v + 100)
    options = BlendOptions(erode=0, feather=0, colour="none", scale=scale)
    blend.paste_face(frame, face, np.ones((64, 64), np.float32), frame[:64, :64].copy(), matrix, options)
    weight = frame[..., 0].astype(float)
    ys, xs = np.mgrid[:300, :300]
    centroid = (xs * weight).sum() / weight.sum(), (ys * weight).sum() / weight.sum()
    expected = (100 + 31.5 + (41 - 31.5) * scale, 100 + 31.5 + (32 - 31.5) * scale)
    assert np.allclose(centroid, expected, atol=0.05)  # 9.5 px off the centre in the crop: 9.5 * scale here


def test_bicubic_paste_back_keeps_more_of_an_enlarged_face_than_bilinear():
    frame = textured_frame(9, noise=6.0)  # fine noise on smooth waves, like skin texture
    matrix = similarity(15, 0.65, (320, 180), 96)  # the face is 1.5x larger in the frame than in the crop
    crop = align.warp_crop(frame, matrix, 96)
    inside = cv2.warpAffine(np.ones((96, 96), np.float32), align.invert_affine(matrix), (640, 360)) > 0.999
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)

    def pasted(interpolation: str) -> tuple[float, float]:
        """(mean error against the frame, fine detail as a fraction of the frame's) inside the face"""
        canvas = frame.copy()
        options = BlendOptions(erode=0, feather=0, colour="none", interpolation=interpolation)
        blend.paste_face(canvas, crop / np.float32(255), np.ones((96, 96), np.float32), crop, matrix, options)
        detail = quality.face_detail(canvas, inside) / quality.face_detail(frame, inside)
        error = np.abs(cv2.cvtColor(canvas, cv2.COLOR_BGR2GRAY).astype(float) - grey)[inside].mean()
        return float(error), detail

    (cubic_error, cubic_detail), (linear_error, linear_detail) = pasted("bicubic"), pasted("bilinear")
    assert cubic_detail > 1.1 * linear_detail
    assert cubic_error < linear_error


@pytest.mark.parametrize(
    ("angle", "scale", "centre"), [(0, 1.0, (100.5, 80.0)), (33, 0.5, (320, 180)), (-75, 0.7, (630, 5))]
)
def test_face_roi_holds_every_pixel_the_crop_can_paint_and_little_more(angle, scale, centre):
    size, height, width = 96, 360, 640
    matrix = similarity(angle, scale, centre, size)
    x0, y0, x1, y1 = blend.face_roi(matrix, size, (height, width, 3))
    ys, xs = np.mgrid[-height : 2 * height, -width : 2 * width]
    u, v = align.transform_points(np.stack([xs.ravel(), ys.ravel()], 1), matrix).T.reshape(2, *xs.shape)
    painted = (u > -1) & (u < size) & (v > -1) & (v < size)
    left, right = np.clip([xs[painted].min(), xs[painted].max() + 1], 0, width)
    top, bottom = np.clip([ys[painted].min(), ys[painted].max() + 1], 0, height)
    assert 0 <= left - x0 <= 2 and 0 <= x1 - right <= 2
    assert 0 <= top - y0 <= 2 and 0 <= y1 - bottom <= 2


def test_face_roi_is_empty_for_a_face_outside_the_frame():
    for centre in [(-300.0, 100.0), (100.0, 900.0)]:
        x0, y0, x1, y1 = blend.face_roi(similarity(0, 1.0, centre, 96), 96, (360, 640, 3))
        assert x0 >= x1 or y0 >= y1


@pytest.mark.parametrize("size", [96, 128])
@pytest.mark.parametrize("colour", ["rct", "none"])
def test_paste_face_changes_the_face_and_nothing_outside_its_roi(size, colour):
    face = fake_face(size, seed=size)
    frame = face["frame"].copy()
    blend.paste_face(
        frame, face["swapped"], face["mask"], face["crop"], face["matrix"], BlendOptions(colour=colour)
    )
    x0, y0, x1, y1 = blend.face_roi(face["matrix"], size, frame.shape)
    assert 180 < x1 - x0 < 300 and 180 < y1 - y0 < 300
    outside = np.ones(frame.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    np.testing.assert_array_equal(frame[outside], face["frame"][outside])
    changed = np.abs(frame.astype(int) - face["frame"]).max(axis=2) > 8
    assert changed[150:190, 280:320].mean() > 0.9
    assert not changed[y0:y1, x0:x1].all()


@pytest.mark.parametrize("colour", ["rct", "none"])
def test_paste_face_equals_the_references_composed(colour):
    size = 128
    face = fake_face(size, seed=11)
    options = BlendOptions(colour=colour)
    erode_px, feather_px = options.radii_px(size)
    alpha = reference_feather(reference_erode(face["mask"], erode_px), feather_px).astype(np.float32)
    swapped = face["swapped"]
    if colour == "rct":
        crop_lab = cv2.cvtColor(face["crop"].astype(np.float32) / 255, cv2.COLOR_BGR2Lab)
        lab = reference_match_colour(cv2.cvtColor(swapped, cv2.COLOR_BGR2Lab), crop_lab, alpha)
        swapped = cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_Lab2BGR)
    roi = blend.face_roi(face["matrix"], size, face["frame"].shape)
    expected = reference_composite(face["frame"], swapped, alpha, face["matrix"], roi)
    frame = face["frame"].copy()
    blend.paste_face(frame, face["swapped"], face["mask"], face["crop"], face["matrix"], options)
    difference = np.abs(frame.astype(int) - expected)
    assert difference.max() <= 1 and (difference > 0).mean() < 1e-3


def test_paste_face_of_a_face_outside_the_frame_changes_nothing():
    face = fake_face(96, seed=12)
    frame = face["frame"].copy()
    away = face["matrix"] + [[0, 0, 1000.0], [0, 0, 0]]
    blend.paste_face(frame, face["swapped"], face["mask"], face["crop"], away, BlendOptions())
    np.testing.assert_array_equal(frame, face["frame"])


def test_paste_face_rejects_inputs_it_cannot_use():
    face = fake_face(96, seed=13)
    args = (face["swapped"], face["mask"], face["crop"], face["matrix"], BlendOptions())
    with pytest.raises(ValueError, match="uint8"):
        blend.paste_face(face["frame"].astype(np.float32), *args)
    with pytest.raises(ValueError, match="C-contiguous"):
        blend.paste_face(face["frame"][:, ::2], *args)
    with pytest.raises(ValueError, match="expected shapes"):
        blend.paste_face(face["frame"], face["swapped"][:64], *args[1:])
    with pytest.raises(ValueError, match="expected shapes"):
        blend.paste_face(face["frame"], *args[:3], face["matrix"][:, :2], args[4])


def test_pasting_a_real_face_onto_itself_leaves_it_nearly_as_it_was(woman_frames):
    original = woman_frames[0]
    spec = align.AlignSpec("whole_face", 128)
    with FaceLandmarker("image") as landmarker:
        aligned = align.align_face(original, landmarker.detect(original)[0].landmarks, spec)
    mask = align.hull_mask(aligned.landmarks, spec.size).astype(np.float32) / 255
    frame = original.copy()
    blend.paste_face(
        frame, aligned.crop / np.float32(255), mask, aligned.crop, aligned.matrix, BlendOptions()
    )
    x0, y0, x1, y1 = blend.face_roi(aligned.matrix, spec.size, frame.shape)
    difference = np.abs(frame.astype(int) - original)
    assert difference[y0:y1, x0:x1].mean() < 2.0 and difference[y0:y1, x0:x1].max() > 0
    difference[y0:y1, x0:x1] = 0
    assert difference.max() == 0


WARM_UP_PROBE = """
import json, numba, numpy as np
from stream import align, blend
from stream.blend_options import BlendOptions
# Helpers (leading underscore) are compiled into the kernels that call them, not on their own.
kernels = {
    name: k for name, k in vars(blend).items()
    if isinstance(k, numba.core.dispatcher.Dispatcher) and not name.startswith("_")
}
before = {name: len(k.signatures) for name, k in kernels.items()}
blend.warm_up()
warm = {name: len(k.signatures) for name, k in kernels.items()}
frame = np.zeros((360, 640, 3), np.uint8)
matrix = np.array([[0.6, 0.1, -150.0], [-0.1, 0.6, -60.0]])
for size in (96, 128):
    planar = np.random.default_rng(0).random((3, size, size), dtype=np.float32)
    for colour, interpolation in (("rct", "bicubic"), ("none", "bilinear")):
        swapped = planar.transpose(1, 2, 0)[:, :, ::-1]
        mask = np.ones((1, size, size), np.float16)[0]
        options = BlendOptions(colour=colour, interpolation=interpolation)
        blend.paste_face(frame, swapped, mask, frame[:size, :size], matrix, options)
after = {name: len(k.signatures) for name, k in kernels.items()}
print(json.dumps({"before": before, "warm": warm, "after": after}))
"""


def test_warm_up_compiles_every_kernel_the_hot_path_uses():
    probe = subprocess.run([sys.executable, "-c", WARM_UP_PROBE], capture_output=True, text=True, check=True)
    counts = json.loads(probe.stdout.splitlines()[-1])
    hot = {"erode_mask", "feather_mask", "match_colour_lab", "composite_warped", "gaussian_weights"}
    assert set(counts["warm"]) == hot
    assert all(count == 0 for count in counts["before"].values())
    assert all(count >= 1 for count in counts["warm"].values()), counts["warm"]
    assert counts["after"] == counts["warm"]
