"""DeepFaceLive's alignment (``--align dflive``) against the numbers it publishes and the way it cuts faces.

Reference: DeepFaceLive, github.com/iperov/DeepFaceLive at commit fc7b787, ``xlib/face/FLandmarks2D.py``
(``uni_landmarks_468``, its second definition; ``landmarks_468_moving_parts_indexes``; ``calc_cut``) and
``apps/DeepFaceLive/backend/FaceAligner.py`` (defaults: coverage 2.2, exclude moving parts on, x/y offset
0, and ``y_offset - 0.08`` passed to the cut).
"""

import hashlib

import cv2
import numpy as np
import pytest

from stream import align
from stream.landmarks import FaceLandmarker

SPEC = align.AlignSpec(face_type="whole_face", size=224, coverage=2.2, template=align.DFLIVE.template)


def test_the_template_holds_deepfacelives_published_rigid_points():
    """Rows of ``uni_landmarks_468`` as printed in FLandmarks2D.py; 468 - 316 moving parts = 152 points. The
    digest is of DeepFaceLive's own array at the kept indices (int32 indices, then float32 x, y pairs, little
    endian), computed from that file."""
    points = align.DFLIVE.points
    assert len(points) == 152
    packed = np.array(list(points), "<i4").tobytes() + np.array(list(points.values()), "<f4").tobytes()
    assert (
        hashlib.sha256(packed).hexdigest()
        == "9cf32a9ef1798d8ec67863508160b51df78012617631dd747b040c87be77864d"
    )
    assert points[1] == (0.49042386, 0.52723485)  # nose tip
    assert points[6] == (0.48907965, 0.26775706)  # nose bridge
    assert points[234] == (-0.3824783, 0.41054142)  # cheek at the right ear, image left
    assert points[454] == (1.362823, 0.4074953)  # cheek at the left ear
    # listed as moving parts there: lips (0, 61, 291), eye corners (33, 263), chin (152), brow line (10)
    assert not {0, 10, 33, 61, 152, 263, 291} & set(points)


def test_the_default_cut_puts_template_points_where_deepfacelive_does():
    """DeepFaceLive's cut at coverage c and offset (0, -0.08): crop = (u - (0.5, 0.42) + c / 2) * R / c, so
    with c = 2.2 and R = 224 landmark 4, above the nose tip, (0.4905825, 0.49120593) lands at
    (111.0411, 119.2501) and the nose bridge (0.48907965, 0.26775706) at (110.8881, 96.4989), worked out by
    hand from those numbers."""
    landed = dict(zip(align.DFLIVE.points, align.template_points(SPEC), strict=True))
    np.testing.assert_allclose(landed[4], (111.0411, 119.2501), atol=1e-4)
    np.testing.assert_allclose(landed[6], (110.8881, 96.4989), atol=1e-4)


def synthetic_landmarks() -> np.ndarray:
    """468 landmarks: the template's points turned 12°, scaled to 300 px, moved to (250, 90), with 2 px of
    seeded noise; the points the template leaves out stay at zero (both fits ignore them)."""
    angle = np.deg2rad(12.0)
    rotation = 300 * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    unit = np.array(list(align.DFLIVE.points.values()))
    noise = np.random.default_rng(7).normal(0, 2.0, size=unit.shape)
    landmarks = np.zeros((468, 2))
    landmarks[list(align.DFLIVE.points)] = unit @ rotation.T + (250.0, 90.0) + noise
    return landmarks


@pytest.mark.parametrize(
    ("coverage", "size", "matrix"),
    [
        (2.2, 224, [[0.331190705, 0.071078286, -28.004570007], [-0.071078241, 0.331190705, 57.460033417]]),
        (1.6, 320, [[0.650553286, 0.139617965, -115.009010315], [-0.139618009, 0.650553226, 52.867931366]]),
    ],
)
def test_the_crop_matrix_is_the_one_deepfacelives_calc_cut_returns(coverage, size, matrix):
    """``matrix``: what DeepFaceLive's ``FLandmarks2D.calc_cut`` (commit fc7b787) returned for these
    landmarks, given as uniform coordinates of a 640x360 frame, with exclude_moving_parts=True, x_offset 0,
    y_offset -0.08 (its aligner's defaults); its float32 arithmetic limits the agreement to ~1e-4."""
    spec = align.AlignSpec("whole_face", size, coverage, align.DFLIVE.template)
    np.testing.assert_allclose(align.crop_matrix(synthetic_landmarks(), spec), matrix, atol=2e-4)


def deepfacelive_cut(landmarks: np.ndarray, coverage: float, size: int, y_offset: float) -> np.ndarray:
    """The frame → crop matrix built the way ``calc_cut`` describes it: fit frame → unit square, map the
    unit square's corners and centre back to the frame, move the centre, lay a square of half-diagonal
    ``coverage`` times the unit square's along the mapped diagonals, and take the affine of three corners."""
    indices = list(align.DFLIVE.points)
    unit = np.array(list(align.DFLIVE.points.values()))
    to_unit = align.umeyama(landmarks[indices], unit)
    corners = align.transform_points(
        np.array([(0, 0), (1, 0), (1, 1), (0, 1), (0.5, 0.5)], np.float64), align.invert_affine(to_unit)
    )
    centre = corners[4] + (corners[3] - corners[0]) * y_offset
    down = (corners[2] - corners[0]) / np.linalg.norm(corners[2] - corners[0])
    up = (corners[1] - corners[3]) / np.linalg.norm(corners[1] - corners[3])
    reach = np.linalg.norm(corners[0] - corners[4]) * coverage
    frame_points = np.array([centre - down * reach, centre + up * reach, centre + down * reach], np.float32)
    crop_points = np.array([(0, 0), (size, 0), (size, size)], np.float32)
    return cv2.getAffineTransform(frame_points, crop_points)


@pytest.fixture(scope="module")
def real_landmarks(woman_frames, man_frames):
    with FaceLandmarker("image") as landmarker:
        return [landmarker.detect(frame)[0].landmarks for frame in woman_frames + man_frames]


@pytest.mark.parametrize("coverage", [1.6, 2.2, 3.0])
def test_real_faces_are_cut_as_deepfacelive_cuts_them(real_landmarks, coverage):
    spec = align.AlignSpec("whole_face", 224, coverage, align.DFLIVE.template)
    corners = np.array([(0, 0), (224, 0), (224, 224), (0, 224)], float)
    for landmarks in real_landmarks:
        ours = align.invert_affine(align.crop_matrix(landmarks, spec))
        theirs = align.invert_affine(deepfacelive_cut(landmarks, coverage, 224, y_offset=-0.08))
        # where the crop's corners lie in the frame, in frame pixels (float32 in the three-point affine)
        np.testing.assert_allclose(
            align.transform_points(corners, ours), align.transform_points(corners, theirs), atol=0.02
        )


def test_real_dflive_crops_hold_the_whole_face_centred_and_upright(real_landmarks):
    for landmarks in real_landmarks:
        in_crop = align.transform_points(landmarks, align.crop_matrix(landmarks, SPEC))
        left, right = align.eye_centres(in_crop)
        assert abs((left[0] + right[0]) / 2 - 112) < 0.06 * 224, (left, right)
        assert abs(left[1] - right[1]) < 0.1 * abs(right[0] - left[0])
        # the whole face (FaceMesh's 468 points) inside the crop, with the margin a 2.2 coverage gives
        assert in_crop[:468].min() > 0.05 * 224 and in_crop[:468].max() < 0.95 * 224
