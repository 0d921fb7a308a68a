import numpy as np
import pytest

from stream.errors import SwapcamError
from trained.augment import AugmentConfig, random_warp_maps, sample_batch, transfer_colour
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


def test_warp_field_is_smooth_and_small_at_the_border():
    map_x, map_y = random_warp_maps(np.random.default_rng(1), 64, 0.03)
    ys, xs = np.mgrid[0:64, 0:64].astype(np.float32)
    shift = np.hypot(map_x - xs, map_y - ys)
    assert shift[0].max() < 0.5 and shift[24:40, 24:40].max() > 1.0
    assert np.abs(np.diff(map_x, axis=1) - 1).max() < 0.5


def test_colour_transfer_matches_the_reference_statistics(faces_a, faces_b):
    import cv2

    source = faces_a.faces[0].astype(np.float32) / 255
    reference = faces_b.faces[0].astype(np.float32) / 255
    moved = cv2.cvtColor(transfer_colour(source, reference), cv2.COLOR_RGB2LAB).mean(axis=(0, 1))
    target = cv2.cvtColor(reference, cv2.COLOR_RGB2LAB).mean(axis=(0, 1))
    np.testing.assert_allclose(moved, target, atol=2.0)
