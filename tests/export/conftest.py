from pathlib import Path

import pytest

from trained.train import TrainOptions, train


@pytest.fixture(scope="session")
def small_run(extracted: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lite model at 64 px trained for 3 steps on the sample faces: a real run folder, quickly."""
    run = tmp_path_factory.mktemp("run")
    options = TrainOptions(preset="lite", resolution=64, batch=4, steps=3)
    train(extracted["woman"], extracted["man"], run, options, progress=False)
    return run


@pytest.fixture(scope="session")
def exported(small_run: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from export.onnx_export import export_onnx

    folder = tmp_path_factory.mktemp("onnx")
    paths = {"fp32": folder / "model.onnx", "fp16": folder / "model-fp16.onnx"}
    export_onnx(small_run, paths["fp32"])
    export_onnx(small_run, paths["fp16"], fp16=True)
    return paths
