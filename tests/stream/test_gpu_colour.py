import cv2
import numpy as np
import pytest
import torch

from stream import align, blend
from stream.blend_options import BlendOptions
from stream.gpu.colour import bgr_to_lab, lab_to_bgr, match_colour, transfer_colour
from stream.landmarks import FaceLandmarker

# OpenCV 4.x makes float BGR → Lab by trilinear interpolation in a 33^3 table of the formula, in fixed point,
# so between the table's nodes it strays from the formula computed here by up to 0.25 in L and 0.69 in a
# or b (the largest seen over 40 million random colours); most colours are far closer. At the nodes
# themselves (multiples of 1/32) only its 14-bit rounding remains. Lab → BGR reads the sRGB curve from a
# spline table: within 1e-4.
LAB_ATOL = np.array([0.3, 0.75, 0.75])
LAB_MEAN_ATOL = 0.1
NODE_ATOL = 0.01
BGR_ATOL = 2e-4


def planar(image: np.ndarray) -> torch.Tensor:
    """(H, W, 3) or (N, H, W, 3) array → (3, H, W) or (N, 3, H, W) tensor."""
    return torch.from_numpy(np.ascontiguousarray(np.moveaxis(image, -1, -3)))


def interleaved(tensor: torch.Tensor) -> np.ndarray:
    return np.moveaxis(tensor.cpu().numpy(), -3, -1)


@pytest.fixture(scope="module")
def real_faces(woman_frames, man_frames) -> tuple[np.ndarray, np.ndarray]:
    """Three aligned 128 px faces, (3, 128, 128, 3) uint8, and their feathered hull masks (3, 128, 128)."""
    spec = align.AlignSpec("whole_face", 128)
    frames = [woman_frames[0], woman_frames[3], man_frames[0]]
    with FaceLandmarker("image") as landmarker:
        faces = [align.align_face(frame, landmarker.detect(frame)[0].landmarks, spec) for frame in frames]
    masks = [align.hull_mask(face.landmarks, spec.size).astype(np.float32) / 255 for face in faces]
    alphas = [blend.prepare_alpha(mask, BlendOptions()) for mask in masks]
    return np.stack([face.crop for face in faces]), np.stack(alphas)


def colour_ramps() -> np.ndarray:
    """(64, 256, 3) float32: greys, primaries, secondaries and skin-like tones from black to full."""
    ramp = np.linspace(0.0, 1.0, 256, dtype=np.float32)[:, None]
    hues = [(1, 1, 1), (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (0, 1, 1), (1, 0, 1), (0.45, 0.6, 0.9)]
    rows = [ramp * np.array(hue, np.float32) + offset for hue in hues for offset in np.linspace(0, 0.1, 8)]
    return np.clip(np.stack(rows), 0.0, 1.0).astype(np.float32)


def assert_lab_close(image: np.ndarray) -> None:
    expected = cv2.cvtColor(image, cv2.COLOR_BGR2Lab)
    error = np.abs(interleaved(bgr_to_lab(planar(image))) - expected).reshape(-1, 3)
    assert (error.max(axis=0) <= LAB_ATOL).all(), f"max error per channel {error.max(axis=0)}"
    assert error.mean() < LAB_MEAN_ATOL, f"mean error {error.mean()}"


def test_bgr_to_lab_matches_cv2_on_random_colours():
    rng = np.random.default_rng(0)
    assert_lab_close(rng.random((256, 256, 3), dtype=np.float32))
    assert_lab_close(rng.random((256, 256, 3), dtype=np.float32) ** 3)  # mostly dark


def test_bgr_to_lab_matches_cv2_on_colour_ramps_and_real_faces(real_faces):
    crops, _ = real_faces
    assert_lab_close(colour_ramps())
    for crop in crops:
        assert_lab_close(crop.astype(np.float32) / 255)


def test_bgr_to_lab_equals_cv2_on_the_nodes_of_its_table():
    nodes = np.arange(33, dtype=np.float32) / 32
    cube = np.stack(np.meshgrid(nodes, nodes, nodes, indexing="ij"), axis=-1).reshape(33 * 33, 33, 3)
    expected = cv2.cvtColor(cube, cv2.COLOR_BGR2Lab)
    np.testing.assert_allclose(interleaved(bgr_to_lab(planar(cube))), expected, atol=NODE_ATOL)


def test_bgr_to_lab_clips_colours_outside_the_unit_range_as_cv2_does():
    rng = np.random.default_rng(1)
    image = rng.uniform(-0.5, 1.5, (64, 64, 3)).astype(np.float32)
    assert_lab_close(image)
    np.testing.assert_array_equal(bgr_to_lab(planar(image)), bgr_to_lab(planar(np.clip(image, 0, 1))))


def test_lab_to_bgr_matches_cv2_including_colours_outside_the_gamut():
    rng = np.random.default_rng(2)
    size = (256, 256)
    channels = [rng.uniform(-10, 110, size), rng.uniform(-140, 140, size), rng.uniform(-140, 140, size)]
    lab = np.stack(channels, axis=-1).astype(np.float32)
    expected = cv2.cvtColor(lab, cv2.COLOR_Lab2BGR)
    assert (expected == 0).mean() > 0.1 and (expected == 1).mean() > 0.1  # cv2 clips to [0, 1]
    np.testing.assert_allclose(interleaved(lab_to_bgr(planar(lab))), expected, atol=BGR_ATOL)


def test_lab_to_bgr_inverts_bgr_to_lab(real_faces):
    crops, _ = real_faces
    rng = np.random.default_rng(3)
    noise = torch.from_numpy(rng.random((2, 3, 128, 128), dtype=np.float32))
    images = torch.cat([planar(crops.astype(np.float32) / 255), noise])
    torch.testing.assert_close(lab_to_bgr(bgr_to_lab(images)), images, rtol=0.0, atol=5e-5)


def test_match_colour_matches_the_cpu_path_per_face(real_faces):
    crops, alphas = real_faces
    faces_lab = np.stack([cv2.cvtColor(crop.astype(np.float32) / 255, cv2.COLOR_BGR2Lab) for crop in crops])
    targets_lab = faces_lab[[2, 0, 1]]
    rng = np.random.default_rng(4)
    sparse = (rng.random((128, 128)) * (rng.random((128, 128)) > 0.5)).astype(np.float32)
    weights = np.stack([alphas[2], sparse, np.zeros((128, 128), np.float32)])
    face, crop = planar(faces_lab), planar(targets_lab)
    before = face.clone()
    result = match_colour(face, crop, torch.from_numpy(weights))
    torch.testing.assert_close(face, before, rtol=0.0, atol=0.0)  # a new tensor, the input untouched
    for index in range(3):
        expected = faces_lab[index].copy()
        blend.match_colour_lab(expected, targets_lab[index], weights[index])
        np.testing.assert_allclose(interleaved(result[index]), expected, atol=1e-3)
    assert np.abs(interleaved(result[0]) - faces_lab[0]).max() > 5.0  # the transfer did something
    torch.testing.assert_close(result[2], face[2], rtol=0.0, atol=0.0)


def test_match_colour_gives_a_flat_face_channel_the_crop_mean(real_faces):
    crops, alphas = real_faces
    crop = bgr_to_lab(planar(crops[:1].astype(np.float32) / 255))
    face = bgr_to_lab(torch.rand(1, 3, 128, 128, generator=torch.Generator().manual_seed(5)))
    face[:, 0] = 40.0
    face[0, 0, 64, 64] = torch.nextafter(torch.tensor(40.0), torch.tensor(41.0))  # flat but for rounding
    weights = torch.from_numpy(alphas[:1])
    result = match_colour(face, crop, weights)
    mean = (crop[0, 0] * weights[0]).sum() / weights[0].sum()
    torch.testing.assert_close(result[0, 0], mean.expand(128, 128), rtol=0.0, atol=1e-3)
    assert result[0, 1].std() > 1.0  # the other channels keep their spread


def test_transfer_colour_matches_the_cpu_path_on_real_faces(real_faces):
    crops, alphas = real_faces
    swapped = crops[[1, 2, 0]].astype(np.float32) / 255
    targets = crops.astype(np.float32) / 255
    result = transfer_colour(planar(swapped), planar(targets), torch.from_numpy(alphas))
    expected = np.stack([blend.transfer_colour(*face) for face in zip(swapped, crops, alphas, strict=True)])
    error = np.abs(interleaved(result) - expected) * 255
    assert error.max() < 1.5 and error.mean() < 0.5, f"max {error.max()}, mean {error.mean()} in 1/255"
    assert np.abs(expected - swapped).max() * 255 > 20  # the faces' colours really moved


def test_results_keep_the_dtype_and_device_of_the_input():
    images = torch.rand(2, 3, 16, 16, dtype=torch.float64)
    weights = torch.ones(2, 16, 16, dtype=torch.float64)
    for dtype in (torch.float16, torch.float32, torch.float64):
        lab = bgr_to_lab(images.to(dtype))
        assert lab.dtype == dtype and lab_to_bgr(lab).dtype == dtype
        assert match_colour(lab, lab, weights.to(dtype)).dtype == dtype
        assert transfer_colour(images.to(dtype), images.to(dtype), weights.to(dtype)).dtype == dtype
    torch.testing.assert_close(lab_to_bgr(bgr_to_lab(images)), images, rtol=0.0, atol=5e-5)


def test_inputs_that_cannot_be_used_are_rejected():
    with pytest.raises(ValueError, match=r"must be a float \(\.\.\., 3, H, W\) tensor, got torch.uint8"):
        bgr_to_lab(torch.zeros(3, 8, 8, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"got torch.float32 \(4, 8, 8\)"):
        lab_to_bgr(torch.zeros(4, 8, 8))
    shapes = r"weights \(N, H, W\), got \(2, 3, 8, 8\), \(2, 3, 8, 8\) and \(2, 8\)"
    with pytest.raises(ValueError, match=shapes):
        match_colour(torch.zeros(2, 3, 8, 8), torch.zeros(2, 3, 8, 8), torch.zeros(2, 8))


def test_cuda_gives_the_cpu_results(real_faces):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device: the torch colour maths run on CPU tensors only here")
    crops, alphas = real_faces
    faces = planar(crops[[1, 2, 0]].astype(np.float32) / 255)
    targets, weights = planar(crops.astype(np.float32) / 255), torch.from_numpy(alphas)
    expected = transfer_colour(faces, targets, weights)
    result = transfer_colour(faces.cuda(), targets.cuda(), weights.cuda())
    assert result.device.type == "cuda"
    torch.testing.assert_close(result.cpu(), expected, rtol=0.0, atol=1e-5)
    lab = bgr_to_lab(targets)
    # CUDA's pow differs from the CPU's by a few ulps: 6e-5 in L (of 100) seen on an H200
    torch.testing.assert_close(bgr_to_lab(targets.cuda()).cpu(), lab, rtol=0.0, atol=2e-4)
    torch.testing.assert_close(lab_to_bgr(lab.cuda()).cpu(), lab_to_bgr(lab), rtol=0.0, atol=1e-5)
