from pathlib import Path

import pytest

from stream.align import AlignSpec
from stream.extract import ExtractOptions, extract
from trained.data import FaceData, load_faces


@pytest.fixture(scope="session")
def faces_a(extracted: dict[str, Path]) -> FaceData:
    return load_faces(extracted["woman"], 64)


@pytest.fixture(scope="session")
def faces_b(extracted: dict[str, Path]) -> FaceData:
    return load_faces(extracted["man"], 64)


@pytest.fixture(scope="session")
def other_face_type(sample_paths: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few of the man's faces cropped as `face` instead of `whole_face`."""
    folder = tmp_path_factory.mktemp("face_type_face")
    extract(
        [sample_paths["man"]], folder, ExtractOptions(spec=AlignSpec("face", 64), every=12), progress=False
    )
    return folder
