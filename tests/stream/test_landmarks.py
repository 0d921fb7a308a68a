import gc
from collections.abc import Sequence

import cv2
import cv2.data
import numpy as np
import pytest

from stream.landmarks import MESH_POINTS, MESH_POINTS_WITH_IRIS, FaceLandmarker


def haar_face_boxes(frame: np.ndarray) -> Sequence[Sequence[int]]:
    """An independent face detector (OpenCV's bundled Haar cascade) to check FaceMesh against: (x, y, w, h)
    of each face found."""
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    return cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(60, 60))


def test_landmarks_are_found_on_real_frames_inside_an_independent_face_box(woman_frames, man_frames):
    checked = 0
    with FaceLandmarker("image") as landmarker:
        for frame in [woman_frames[0], woman_frames[5], *man_frames]:
            (face,) = landmarker.detect(frame)
            assert face.landmarks.shape == (MESH_POINTS, 2) and face.landmarks.dtype == np.float32
            nose_and_eyes = face.landmarks[[1, 33, 263]]
            for x, y, w, h in haar_face_boxes(frame)[:1]:
                assert np.all((nose_and_eyes >= [x, y]) & (nose_and_eyes <= [x + w, y + h]))
                checked += 1
            np.testing.assert_allclose(face.box[:2], face.landmarks.min(axis=0))
            np.testing.assert_allclose(face.box[2:], face.landmarks.max(axis=0))
    assert checked >= 4, "the Haar cascade should find most of these frontal faces"


def test_video_mode_tracks_a_clip(woman_frames):
    with FaceLandmarker("video") as landmarker:
        found = [len(landmarker.detect(frame)) for frame in woman_frames]
    assert found == [1] * len(woman_frames)


def test_largest_face_comes_first_and_max_faces_is_respected(man_frames):
    small = cv2.resize(man_frames[0], None, fx=0.6, fy=0.6)  # (216, 384)
    canvas = np.zeros((360, 384 + 640, 3), np.uint8)
    canvas[:, 384:] = man_frames[0]
    canvas[:216, :384] = small
    with FaceLandmarker("image", max_faces=2) as landmarker:
        faces = landmarker.detect(canvas)
    assert len(faces) == 2
    assert faces[0].area > 1.5 * faces[1].area
    assert faces[0].landmarks[:, 0].min() >= 384 > faces[1].landmarks[:, 0].max()
    with FaceLandmarker("image", max_faces=1) as landmarker:
        assert len(landmarker.detect(canvas)) == 1


def test_iris_refinement_gives_478_points(man_frames):
    with FaceLandmarker("image", refine_iris=True) as landmarker:
        (face,) = landmarker.detect(man_frames[0])
    assert face.landmarks.shape == (MESH_POINTS_WITH_IRIS, 2)


def test_no_face_gives_an_empty_list():
    with FaceLandmarker("image") as landmarker:
        assert landmarker.detect(np.full((240, 320, 3), 128, np.uint8)) == []


def test_close_is_idempotent_and_detect_after_close_fails(man_frames):
    landmarker = FaceLandmarker("image")
    landmarker.close()
    landmarker.close()
    with pytest.raises(RuntimeError, match="closed"):
        landmarker.detect(man_frames[0])


def test_a_leaked_landmarker_warns():
    landmarker = FaceLandmarker("image")
    with pytest.warns(ResourceWarning, match="not closed"):
        del landmarker
        gc.collect()


@pytest.mark.parametrize("bad", [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 3), np.float32)])
def test_wrong_frame_layout_is_rejected(bad):
    with FaceLandmarker("image") as landmarker, pytest.raises(ValueError, match="uint8 BGR"):
        landmarker.detect(bad)
