import numpy as np

from stream import align, template_fit
from stream.faceset import read_faceset


def test_symmetrize_makes_a_shape_its_own_mirror_image():
    indices = tuple(template_fit.CANONICAL_FRONT_CM)
    rng = np.random.default_rng(3)
    shape = np.array(list(template_fit.CANONICAL_FRONT_CM.values())) + rng.normal(0, 0.3, (len(indices), 2))
    symmetric = template_fit.symmetrize(shape, indices)
    np.testing.assert_allclose(template_fit.symmetrize(symmetric, indices), symmetric, atol=1e-12)
    assert np.abs(symmetric[indices.index(168), 0]) < 1e-12


def test_fit_recovers_a_shape_seen_through_random_similarities():
    canonical = np.array(list(template_fit.CANONICAL_FRONT_CM.values()))
    wider = canonical * [1.2, 0.9]  # symmetric, but no similarity of the canonical shape
    truth = align.transform_points(wider, align.umeyama(wider, canonical))  # placed in the canonical frame
    assert np.abs(truth - canonical).max() > 0.3
    rng = np.random.default_rng(4)
    shapes = []
    for _ in range(20):
        angle, scale = rng.uniform(-0.5, 0.5), rng.uniform(5, 30)
        rotation = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        shapes.append(wider @ rotation.T + rng.uniform(0, 400, 2))
    np.testing.assert_allclose(template_fit.fit_template(np.array(shapes)), truth, atol=1e-9)


def test_committed_template_is_what_the_sample_footage_gives(extracted):
    """Re-derive swapcam-fm2d-v1 (every 6th frame of the woman, every frame of the man: equal weight)."""
    woman = read_faceset(extracted["woman"]).records[::6]
    man = read_faceset(extracted["man"]).records
    indices = list(template_fit.CANONICAL_FRONT_CM)
    assert indices == list(align.STABLE_INDICES)
    shapes = np.array([r.landmarks_frame[indices] for r in woman + man], np.float64)
    fitted = template_fit.fit_template(shapes)
    committed_cm = np.array([align._TEMPLATE_CM[i] for i in indices])
    np.testing.assert_allclose(fitted, committed_cm, atol=0.02)
    eyes = np.array([align.eye_centres(r.landmarks_frame) for r in woman + man], np.float64)
    eye_centres = template_fit.mean_in_template(shapes, eyes, fitted)
    symmetric_eyes = [(-np.abs(eye_centres[:, 0]).mean(), eye_centres[:, 1].mean())] * 2
    np.testing.assert_allclose(np.abs(symmetric_eyes), np.abs(align.EYE_CENTRES_CM), atol=0.02)
