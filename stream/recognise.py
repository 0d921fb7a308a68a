"""An independent face recogniser: dlib's ResNet face descriptor (128-d, trained on about 3 million faces by
its author; two photos of one person lie under 0.6 apart). Nothing of swapcam's training uses it, so it can
judge who a swapped face looks like.

Its weights come from PyPI packages (``dlib-bin``, ``face-recognition-models``: the ``eval`` extra); nothing
is downloaded at run time. The face is located by FaceMesh landmarks (a box around them), then dlib's own
five-point shape predictor aligns it the way its descriptor was trained.
"""

import importlib.util
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from stream.errors import SwapcamError
from stream.lifecycle import OwnedResource
from stream.types import BGRFrame, Landmarks

Descriptor = NDArray[np.float64]  # (128,)
SAME_PERSON = 0.6  # dlib's threshold: descriptors of one person lie closer than this
INSTALL_HINT = "pip install dlib-bin face-recognition-models (the `eval` extra of swapcam)"


def _model_folder() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise SwapcamError(f"the independent face recogniser needs its weights: {INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def _import_dlib() -> Any:
    try:
        import dlib
    except ImportError as error:
        raise SwapcamError(f"the independent face recogniser needs dlib: {INSTALL_HINT}") from error
    return dlib


class FaceRecogniser(OwnedResource):
    """Owns dlib's shape predictor and descriptor network; ``describe`` gives one face's descriptor."""

    def __init__(self) -> None:
        dlib = _import_dlib()
        folder = _model_folder()
        self._dlib = dlib
        self._shapes = dlib.shape_predictor(str(folder / "shape_predictor_5_face_landmarks.dat"))
        self._network = dlib.face_recognition_model_v1(
            str(folder / "dlib_face_recognition_resnet_model_v1.dat")
        )
        self._closed = False

    def describe(self, frame: BGRFrame, landmarks: Landmarks) -> Descriptor:
        """The descriptor of the face whose FaceMesh ``landmarks`` (pixels) are given."""
        self._check_open()
        left, top = np.floor(landmarks.min(axis=0)).astype(int)
        right, bottom = np.ceil(landmarks.max(axis=0)).astype(int)
        box = self._dlib.rectangle(int(left), int(top), int(right), int(bottom))
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        shape = self._shapes(rgb, box)
        return np.asarray(self._network.compute_face_descriptor(rgb, shape, 0), np.float64)

    def _release(self) -> None:
        self._shapes = self._network = None


def distances(descriptors: NDArray[np.float64], reference: Descriptor) -> NDArray[np.float64]:
    """Euclidean distance of each descriptor (N, 128) to a reference (128,)."""
    return np.linalg.norm(np.atleast_2d(descriptors) - reference, axis=1)


def centroid(descriptors: NDArray[np.float64]) -> Descriptor:
    """The mean descriptor of a set of faces of one person: what "this person" means to the figures."""
    if len(descriptors) == 0:
        raise ValueError("no descriptors to average")
    return np.asarray(descriptors, np.float64).mean(axis=0)
