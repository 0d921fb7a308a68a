import numpy as np
import pytest

from stream.smoothing import OneEuroParams, Track, match_tracks, one_euro_step, smooth_faces

FPS = 30.0
PARAMS = OneEuroParams()


def run_filter(observations: np.ndarray) -> np.ndarray:
    """Filter a (T, N, 2) sequence sampled at FPS; returns the filtered (T, N, 2)."""
    state, out = None, []
    for step, points in enumerate(observations):
        state = one_euro_step(state, points, step / FPS, PARAMS)
        out.append(state.value)
    return np.array(out)


def test_one_euro_reduces_jitter_on_a_noisy_static_track():
    rng = np.random.default_rng(0)
    truth = rng.uniform(100, 500, size=(468, 2))
    noisy = truth + rng.normal(0, 1.5, size=(90, 468, 2))
    filtered = run_filter(noisy)
    raw_jitter = np.abs(np.diff(noisy[30:], axis=0)).mean()
    filtered_jitter = np.abs(np.diff(filtered[30:], axis=0)).mean()
    assert filtered_jitter < 0.25 * raw_jitter
    assert np.abs(filtered[30:] - truth).mean() < np.abs(noisy[30:] - truth).mean()


def test_one_euro_follows_a_step_within_a_bounded_delay():
    before, after = np.full((1, 2), 100.0), np.full((1, 2), 160.0)
    observations = np.array([before] * 15 + [after] * 30)
    filtered = run_filter(observations)[15:, 0, 0]
    frames_to_settle = int(np.argmax(np.abs(filtered - 160.0) < 1.0))
    assert np.abs(filtered[frames_to_settle:] - 160.0).max() < 1.0
    assert frames_to_settle <= 6, f"took {frames_to_settle} frames ({frames_to_settle / FPS * 1000:.0f} ms)"


def test_first_observation_passes_through_and_time_must_increase():
    points = np.array([[1.0, 2.0]], np.float32)
    state = one_euro_step(None, points, 0.0, PARAMS)
    np.testing.assert_array_equal(state.value, points)
    with pytest.raises(ValueError, match="increase"):
        one_euro_step(state, points, 0.0, PARAMS)


@pytest.mark.parametrize("kwargs", [{"min_cutoff": 0}, {"d_cutoff": -1}, {"beta": -0.1}])
def test_bad_parameters_are_rejected(kwargs):
    with pytest.raises(ValueError):
        OneEuroParams(**kwargs)


def face(x: float, y: float, jitter: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    points = np.array([[x, y], [x + 50, y + 50]], np.float32) + jitter
    return np.concatenate([points.min(axis=0), points.max(axis=0)]), points


def test_tracks_follow_faces_by_position_not_by_list_order():
    left, right = face(0, 0), face(300, 0)
    tracks, _ = smooth_faces((), [left, right], 0.0, PARAMS)
    matches = match_tracks(tracks, [face(305, 2)[0], face(3, 1)[0]])
    assert matches == [1, 0]


def test_a_lost_face_resets_its_filter():
    tracks: tuple[Track, ...] = ()
    for step in range(10):
        tracks, _ = smooth_faces(tracks, [face(100, 100)], step / FPS, PARAMS)
    tracks, smoothed = smooth_faces(tracks, [], 10 / FPS, PARAMS)
    assert tracks == () and smoothed == []
    moved = face(110, 104)
    tracks, (points,) = smooth_faces(tracks, [moved], 11 / FPS, PARAMS)
    np.testing.assert_array_equal(points, moved[1])


def test_a_continued_face_is_smoothed():
    tracks, _ = smooth_faces((), [face(100, 100)], 0.0, PARAMS)
    tracks, (points,) = smooth_faces(tracks, [face(100, 100, jitter=2.0)], 1 / FPS, PARAMS)
    assert 100.0 < points[0, 0] < 102.0
