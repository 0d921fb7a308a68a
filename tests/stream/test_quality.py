import numpy as np
import pytest

from stream.align import STABLE_INDICES
from stream.landmarks import FaceLandmarker
from stream.quality import (
    aligned_landmark_error,
    correlation,
    eye_opening,
    face_detail,
    inter_ocular,
    mouth_opening,
    region_change,
    undertrained_signs,
)


@pytest.fixture(scope="module")
def landmarks(woman_frames):
    with FaceLandmarker("image") as landmarker:
        return [landmarker.detect(frame)[0].landmarks for frame in woman_frames]


def similar(points: np.ndarray, angle: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return (scale * points @ np.array([[c, s], [-s, c]]) + shift).astype(np.float32)


def test_figures_do_not_change_with_pose_scale_or_position(landmarks):
    points = landmarks[0]
    moved = similar(points, 0.3, 1.7, (40.0, -25.0))
    assert inter_ocular(moved) == pytest.approx(1.7 * inter_ocular(points), rel=1e-4)
    assert mouth_opening(moved) == pytest.approx(mouth_opening(points), rel=1e-4)
    assert eye_opening(moved) == pytest.approx(eye_opening(points), rel=1e-4)
    assert aligned_landmark_error(points, moved) < 1e-4


def test_the_laughing_mouth_is_open_and_the_neutral_one_closed(landmarks):
    # frame 0: neutral, lips together; frame 280: laughing with teeth showing
    assert mouth_opening(landmarks[0]) < 0.05
    assert mouth_opening(landmarks[4]) > 0.2


def test_an_expression_change_is_a_landmark_error_a_rigid_move_is_not(landmarks):
    neutral, laughing = landmarks[0], landmarks[4]
    assert aligned_landmark_error(neutral, laughing) > 0.03
    # moving only non-rigid points (the lips) changes the error; the rigid points still align exactly
    lips = np.array([i for i in range(468) if i not in STABLE_INDICES][:40])
    changed = neutral.copy()
    changed[lips, 1] += 0.1 * inter_ocular(neutral)
    assert aligned_landmark_error(neutral, changed) == pytest.approx(0.1 * 40 / 468, rel=0.05)


def test_correlation_ignores_frames_without_a_face_and_needs_variation():
    x = np.array([0.0, 1.0, np.nan, 3.0, 4.0])
    assert correlation(x, 2 * x + 1) == pytest.approx(1.0)
    assert correlation(x, -x) == pytest.approx(-1.0)
    assert np.isnan(correlation(x, np.ones(5)))


def test_region_change_counts_only_the_masked_pixels():
    before = np.zeros((4, 4, 3), np.uint8)
    after = before.copy()
    after[0, 0] = 30
    after[3, 3] = 200
    mask = np.zeros((4, 4), bool)
    mask[0, 0] = True
    assert region_change(before, after, mask) == 30.0
    assert np.isnan(region_change(before, after, np.zeros((4, 4), bool)))


def test_undertrained_signs_name_an_empty_mask_and_an_unchanged_face():
    rng = np.random.default_rng(0)
    faces = rng.random((4, 8, 8, 3))
    full, empty = np.ones((4, 8, 8)), np.zeros((4, 8, 8))
    assert undertrained_signs(faces, 1 - faces, full) == []
    assert "paints almost nothing" in undertrained_signs(faces, 1 - faces, empty)[0]
    assert "barely swaps" in undertrained_signs(faces, faces + 0.01, full)[0]
    smooth = np.tile(np.linspace(0, 1, 8)[None, None, :, None], (4, 8, 1, 3))
    assert "noise, no face yet" in undertrained_signs(smooth, faces, full)[0]
    assert undertrained_signs(faces, smooth, full) == []


def test_a_blurred_face_has_less_detail_than_the_sharp_one(woman_frames):
    import cv2

    frame = woman_frames[0]
    mask = np.zeros(frame.shape[:2], bool)
    mask[100:250, 250:400] = True
    sharp = face_detail(frame, mask)
    soft = face_detail(cv2.GaussianBlur(frame, (0, 0), 2.0), mask)
    assert sharp > 0 and soft < 0.6 * sharp
    assert np.isnan(face_detail(frame, np.zeros_like(mask)))
