import cv2
import numpy as np
import pytest

from stream import align
from stream.faceset import read_faceset
from stream.landmarks import FaceLandmarker


def similarity(angle_deg: float, scale: float, tx: float, ty: float) -> np.ndarray:
    a = np.deg2rad(angle_deg)
    rotation = scale * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return np.hstack([rotation, [[tx], [ty]]])


def synthetic_landmarks(matrix_frame_to_crop: np.ndarray, spec: align.AlignSpec) -> np.ndarray:
    """468 landmarks whose template subset sits exactly where ``matrix`` maps it onto the template."""
    landmarks = np.zeros((468, 2), np.float32)
    to_frame = align.invert_affine(matrix_frame_to_crop)
    landmarks[list(spec.alignment.points)] = align.transform_points(align.template_points(spec), to_frame)
    return landmarks


@pytest.mark.parametrize(
    ("angle", "scale", "tx", "ty"), [(0, 1, 0, 0), (37, 2.5, -40, 12), (-170, 0.3, 500, -7)]
)
def test_umeyama_recovers_a_known_similarity_exactly(angle, scale, tx, ty):
    rng = np.random.default_rng(1)
    src = rng.uniform(-100, 100, size=(30, 2))
    truth = similarity(angle, scale, tx, ty)
    recovered = align.umeyama(src, align.transform_points(src, truth))
    np.testing.assert_allclose(recovered, truth, atol=1e-9)


def test_umeyama_never_returns_a_reflection():
    src = np.array([[0, 0], [1, 0], [0, 2], [3, 1]], float)
    mirrored = src * [-1, 1]
    matrix = align.umeyama(src, mirrored)
    assert np.linalg.det(matrix[:, :2]) > 0


@pytest.mark.parametrize("bad", [np.zeros((1, 2)), np.zeros((5, 3)), np.ones((5, 2))])
def test_umeyama_rejects_degenerate_input(bad):
    with pytest.raises(ValueError):
        align.umeyama(bad, np.arange(bad.size, dtype=float).reshape(bad.shape))


@pytest.mark.parametrize("size", [64, 100, 256, 640])
@pytest.mark.parametrize(
    ("face_type", "template", "coverage"),
    [
        ("face", "swapcam-fm2d-v1", 1.0),
        ("whole_face", "swapcam-fm2d-v1", 1.0),
        ("whole_face", "dflive-uni468-v1", 2.2),
    ],
)
def test_crop_matrix_recovers_the_transform_that_made_the_landmarks(size, face_type, template, coverage):
    spec = align.AlignSpec(face_type=face_type, size=size, coverage=coverage, template=template)
    truth = similarity(-23, size / 300, 17, -31)
    np.testing.assert_allclose(align.crop_matrix(synthetic_landmarks(truth, spec), spec), truth, atol=1e-4)


def test_points_round_trip_through_crop_and_inverse():
    matrix = similarity(12, 0.4, 30, -80)
    points = np.random.default_rng(2).uniform(0, 640, size=(468, 2))
    back = align.transform_points(align.transform_points(points, matrix), align.invert_affine(matrix))
    np.testing.assert_allclose(back, points, atol=1e-9)


def test_image_round_trip_crop_then_paste_back_within_one_pixel():
    frame = np.zeros((360, 640, 3), np.uint8)
    cv2.circle(frame, (300, 170), 3, (255, 255, 255), -1)
    matrix = similarity(25, 1.3, 0, 0)
    matrix[:, 2] = [110, 140] - matrix[:, :2] @ [300, 170]  # the dot lands inside the crop
    crop = align.warp_crop(frame, matrix, 256)
    assert crop.max() == 255
    pasted = cv2.warpAffine(crop, align.invert_affine(matrix), (640, 360), flags=cv2.INTER_LINEAR)
    ys, xs = np.nonzero(pasted[:, :, 0] > 64)
    weights = pasted[ys, xs, 0].astype(float)
    centre = np.array([np.average(xs, weights=weights), np.average(ys, weights=weights)])
    assert np.linalg.norm(centre - [300, 170]) < 1.0


def test_whole_face_shows_more_context_than_face():
    face = align.template_points(align.AlignSpec("face", 256))
    whole = align.template_points(align.AlignSpec("whole_face", 256))
    assert np.ptp(whole[:, 0]) < np.ptp(face[:, 0])


def test_coverage_adds_context_around_the_region():
    tight = align.template_points(align.AlignSpec("face", 256, coverage=1.0))
    loose = align.template_points(align.AlignSpec("face", 256, coverage=1.5))
    np.testing.assert_allclose(np.ptp(loose, axis=0) * 1.5, np.ptp(tight, axis=0))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"face_type": "head"},
        {"size": 63},
        {"size": 641},
        {"coverage": 0.4},
        {"coverage": 2.1},
        {"template": "dfl-68"},
        {"template": "dflive-uni468-v1", "face_type": "face", "coverage": 2.2},
        {"template": "dflive-uni468-v1", "coverage": 8.5},
    ],
)
def test_align_spec_rejects_bad_values(kwargs):
    with pytest.raises(ValueError):
        align.AlignSpec(**kwargs)


def test_hull_mask_fills_the_convex_hull_of_the_landmarks():
    square = np.array([[20, 20], [80, 20], [80, 80], [20, 80], [50, 50]], float)
    mask = align.hull_mask(square, 100)
    assert set(np.unique(mask)) == {0, 255}
    assert mask[50, 50] == 255 and mask[10, 10] == 0 and mask[90, 50] == 0
    assert abs(int((mask > 0).sum()) - 61 * 61) <= 61


def eye_errors_and_tilt(landmarks_crop: np.ndarray, spec: align.AlignSpec) -> tuple[np.ndarray, np.ndarray]:
    """Per face: worst eye-centre distance (px) from the template's eyes, and eye-line tilt (degrees)."""
    expected = align.template_to_crop(np.array(align.EYE_CENTRES_CM), spec)
    eyes = np.array([align.eye_centres(points) for points in landmarks_crop])
    errors = np.linalg.norm(eyes - expected, axis=2).max(axis=1)
    delta = eyes[:, 1] - eyes[:, 0]
    return errors, np.degrees(np.arctan2(delta[:, 1], delta[:, 0]))


def test_every_extracted_sample_face_is_centred_and_upright(extracted):
    for folder in extracted.values():
        faceset = read_faceset(folder)
        errors, tilt = eye_errors_and_tilt(
            np.array([r.landmarks_crop for r in faceset.records]), faceset.spec
        )
        assert np.median(errors) <= 2.0 and errors.max() <= 0.05 * faceset.spec.size, (folder, errors.max())
        assert np.percentile(np.abs(tilt), 95) < 4.0 and np.abs(tilt).max() < 8.0


@pytest.mark.parametrize("face_type", ["face", "whole_face"])
def test_still_frames_are_centred_and_upright_for_each_face_type(woman_frames, man_frames, face_type):
    spec = align.AlignSpec(face_type=face_type, size=128)
    with FaceLandmarker("image") as landmarker:
        faces = [(frame, landmarker.detect(frame)[0]) for frame in woman_frames + man_frames]
    aligned = [align.align_face(frame, face.landmarks, spec) for frame, face in faces]
    errors, tilt = eye_errors_and_tilt(np.array([a.landmarks for a in aligned]), spec)
    assert errors.max() <= 0.05 * spec.size and np.abs(tilt).max() < 8.0, (errors, tilt)
    assert all(a.crop.shape == (128, 128, 3) for a in aligned)
