"""Hands in front of the face stay in front: the hand mask's geometry, and the woman's real frames where
her hand covers her mouth."""

import numpy as np
import pytest

from stream.live import LiveOptions, run_live
from stream.occlusion import HandLandmarker, hand_mask, uncovered
from tests.conftest import read_frames
from tests.stream.fakes import KeepingSink, ListSource

HAND_OVER_MOUTH = [68, 132, 200]  # frames of the woman's clip where a hand covers part of the face


def quiet(message: str) -> None:
    pass


def open_hand(centre: tuple[float, float], size: float) -> np.ndarray:
    """21 MediaPipe-ordered points of an upright open hand: wrist at the bottom, fingers up."""
    x, y = centre
    points = [(x, y + size)]  # wrist
    for finger, dx in enumerate((-0.6, -0.3, 0.0, 0.3, 0.6)):
        base = 0.2 if finger == 0 else 0.0
        points += [(x + dx * size, y + (base - 0.2 * joint) * size) for joint in range(4)]
    return np.array(points, np.float32)


def test_the_mask_covers_palm_and_fingertips_and_nothing_far_from_the_hand():
    matrix = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    hand = open_hand((48.0, 50.0), 30.0)
    mask = hand_mask([hand], matrix, 96)
    assert mask[50, 48] == 255 and mask[int(hand[12][1]), int(hand[12][0])] == 255  # palm, middle tip
    assert mask[5:15, 5:15].max() == 0 and mask[90:, 90:].max() == 0


def test_the_mask_follows_the_crop_matrix():
    hand = open_hand((100.0, 100.0), 30.0)
    shifted = np.array([[0.5, 0.0, -2.0], [0.0, 0.5, -2.0]])  # frame → crop: half size, moved
    moved_by_hand = (hand * 0.5 - 2.0).astype(np.float32)
    np.testing.assert_array_equal(
        hand_mask([hand], shifted, 96), hand_mask([moved_by_hand], np.eye(2, 3), 96)
    )
    assert hand_mask([hand], shifted, 96)[48, 48] == 255


def test_uncovered_removes_what_covers_the_face_from_the_swap_mask():
    mask = np.ones((4, 4), np.float32)
    occlusion = np.zeros((4, 4), np.uint8)
    occlusion[0] = 255
    assert uncovered(mask, None) is mask
    assert uncovered(mask, occlusion)[0].max() == 0 and uncovered(mask, occlusion)[1:].min() == 1


@pytest.fixture(scope="module")
def hand_frames(sample_paths):
    return read_frames(sample_paths["woman"], HAND_OVER_MOUTH)


def test_her_hand_is_found_in_the_frames_where_it_covers_her_mouth(hand_frames):
    with HandLandmarker() as hands:
        found = [hands.detect(frame) for frame in hand_frames]
    assert all(len(hands_in_frame) >= 1 for hands_in_frame in found)


def test_her_hand_stays_in_front_of_the_swapped_face(hand_frames, demo_model):
    """Without occlusion the swap paints over the hand; with it the hand's pixels are the input's."""
    outputs = {}
    for occlusion in (True, False):
        sink = KeepingSink()
        options = LiveOptions(model=demo_model, label=False, occlusion=occlusion)
        run_live(ListSource([frame.copy() for frame in hand_frames]), [sink], options, quiet)
        outputs[occlusion] = sink.frames
    with HandLandmarker() as hands:
        for frame, kept, painted in zip(hand_frames, outputs[True], outputs[False], strict=True):
            region = hand_region(hands.detect(frame), frame.shape[:2])
            swapped_here = region & np.any(painted != frame, axis=2)
            assert swapped_here.sum() > 200  # without occlusion the face was pasted over the hand
            change_kept = np.abs(kept.astype(int) - frame)[swapped_here].mean()
            change_painted = np.abs(painted.astype(int) - frame)[swapped_here].mean()
            assert change_kept < 0.25 * change_painted, (change_kept, change_painted)


def hand_region(found: list[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """The hands' pixels in the frame, shrunk by a few pixels (the feathered edge may blend)."""
    import cv2

    height, width = shape
    side = max(height, width)
    mask = hand_mask(found, np.eye(2, 3), side)[:height, :width]
    return cv2.erode(mask, np.ones((9, 9), np.uint8)) > 0
