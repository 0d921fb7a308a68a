from pathlib import Path

import pytest

from stream.align import AlignSpec, alignment_record
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


@pytest.fixture(scope="session")
def demo_faces(sample_paths: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both sample clips extracted as the demo model's card says (its face type and coverage, 128 px)."""
    from trained.checkpoint import load_checkpoint
    from trained.demo import CHECKPOINT

    alignment = load_checkpoint(CHECKPOINT)["alignment"]
    spec = AlignSpec(size=128, **alignment_record(alignment))
    root = tmp_path_factory.mktemp("demo_faces")
    for name in ("woman", "man"):
        extract([sample_paths[name]], root / name, ExtractOptions(spec=spec), progress=False)
    return {name: root / name for name in ("woman", "man")}
