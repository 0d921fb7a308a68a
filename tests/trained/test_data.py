from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from stream.errors import SwapcamError
from trained.augment import AugmentConfig, random_warp_grid, sample_batch, transfer_colour, warp_maps
from trained.data import check_compatible, load_faces, split_holdout


def test_faces_load_at_the_model_resolution(faces_a, faces_b):
    assert faces_a.faces.shape == (len(faces_a), 64, 64, 3) and faces_a.faces.dtype == np.uint8
    assert faces_a.masks.shape == faces_a.regions.shape == (len(faces_a), 64, 64)
    assert faces_a.label == "woman" and faces_b.label == "man"
    # eyes and mouth cover a small part of the face, inside its hull
    assert 0.03 < (faces_a.regions > 0).mean() < 0.25
    assert ((faces_a.regions > 0) & (faces_a.masks == 0)).mean() < 0.005


def test_a_and_b_must_be_cropped_the_same_way(faces_a, other_face_type):
    with pytest.raises(SwapcamError, match="extracted differently"):
        check_compatible(faces_a, load_faces(other_face_type, 64))


def test_missing_or_empty_folders_are_clear_errors(tmp_path):
    with pytest.raises(SwapcamError, match="no such folder"):
        load_faces(tmp_path / "missing", 64)
    with pytest.raises(SwapcamError, match=r"has no index\.npz"):
        load_faces(tmp_path, 64)


def test_holdout_keeps_the_end_of_the_clip(faces_b):
    train, held = split_holdout(faces_b, 0.1)
    assert len(train) + len(held) == len(faces_b) and len(held) == 7
    assert held.names == faces_b.names[-7:]


def test_batches_warp_the_input_but_not_the_target(faces_a, faces_b):
    rng = np.random.default_rng(0)
    batch = sample_batch(rng, faces_a, 6, AugmentConfig(), faces_b)
    assert batch.inputs.shape == batch.targets.shape == (6, 3, 64, 64)
    assert batch.masks.shape == batch.regions.shape == (6, 1, 64, 64)
    assert batch.inputs.min() >= 0.0 and batch.inputs.max() <= 1.0
    assert np.abs(batch.inputs - batch.targets).mean() > 0.005


def test_batches_repeat_exactly_from_the_same_generator_state(faces_a, faces_b):
    first = sample_batch(np.random.default_rng(7), faces_a, 4, AugmentConfig(), faces_b)
    again = sample_batch(np.random.default_rng(7), faces_a, 4, AugmentConfig(), faces_b)
    np.testing.assert_array_equal(first.inputs, again.inputs)


class CountingPool(ThreadPoolExecutor):
    """Threads that count the calls they were handed."""

    def __init__(self) -> None:
        super().__init__(max_workers=4)
        self.calls = 0

    def map(self, fn, *iterables, **kwargs):
        items = list(iterables[0])
        self.calls += len(items)
        return super().map(fn, items, **kwargs)


@pytest.mark.parametrize("config", [AugmentConfig(flip=False), AugmentConfig(colour_transfer=False)])
def test_a_pool_of_threads_makes_the_same_batches_bit_for_bit(faces_a, faces_b, config):
    sequential_rng, pooled_rng = np.random.default_rng(11), np.random.default_rng(11)
    with CountingPool() as pool:
        for data, other in ((faces_a, faces_b), (faces_b, faces_a)):
            sequential = sample_batch(sequential_rng, data, 16, config, other)
            pooled = sample_batch(pooled_rng, data, 16, config, other, pool=pool)
            for name in ("inputs", "targets", "masks", "regions"):
                np.testing.assert_array_equal(getattr(pooled, name), getattr(sequential, name), err_msg=name)
    assert pool.calls == 32
    assert pooled_rng.bit_generator.state == sequential_rng.bit_generator.state


def test_warp_field_is_smooth_and_small_at_the_border():
    map_x, map_y = warp_maps(random_warp_grid(np.random.default_rng(1), 64, 0.24, 4), 64)
    ys, xs = np.mgrid[0:64, 0:64].astype(np.float32)
    shift = np.hypot(map_x - xs, map_y - ys)
    assert shift[0].max() < 0.5 and shift[24:40, 24:40].max() > 1.0
    # smooth enough that the image never folds over itself
    assert np.diff(map_x, axis=1).min() > 0.2 and np.diff(map_y, axis=0).min() > 0.2


def test_warp_strength_is_a_fraction_of_the_grid_cell():
    """DeepFaceLab's warp: inner grid points move by 0.24 of a cell, so coarser grids warp further."""
    rng = np.random.default_rng(3)
    spread = {
        cells: np.std([random_warp_grid(rng, 96, 0.24, cells)[:, 4, 4] for _ in range(400)])
        for cells in (2, 4, 8)
    }
    for cells, measured in spread.items():
        assert measured == pytest.approx(0.24 * 96 / cells, rel=0.1)


def test_colour_transfer_matches_the_reference_statistics(faces_a, faces_b):
    import cv2

    source = faces_a.faces[0].astype(np.float32) / 255
    reference = faces_b.faces[0].astype(np.float32) / 255
    moved = cv2.cvtColor(transfer_colour(source, reference), cv2.COLOR_RGB2LAB).mean(axis=(0, 1))
    target = cv2.cvtColor(reference, cv2.COLOR_RGB2LAB).mean(axis=(0, 1))
    np.testing.assert_allclose(moved, target, atol=2.0)


def test_training_recolours_on_the_cpu_as_on_a_gpu(faces_a, faces_b):
    """One colour transfer per device, one semantics: the CPU augmentation (the live blend's function with
    unit weights) against the GPU one (``stream.gpu.colour``, here on CPU tensors), on real faces."""
    import torch

    from stream.gpu.colour import transfer_colour as device_transfer

    sources = faces_a.faces[:6].astype(np.float32) / 255  # RGB, as training holds faces
    references = faces_b.faces[:6].astype(np.float32) / 255
    on_cpu = np.stack([transfer_colour(s, r) for s, r in zip(sources, references, strict=True)])

    def planar_bgr(images: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(images[..., ::-1])).permute(0, 3, 1, 2)

    weights = torch.ones(sources.shape[:3])
    on_device = device_transfer(planar_bgr(sources), planar_bgr(references), weights).permute(0, 2, 3, 1)
    difference = np.abs(on_device.numpy()[..., ::-1] - on_cpu)
    assert difference.max() <= 2.5 / 255 and difference.mean() < 0.3 / 255  # OpenCV's Lab is a table
