from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def exported(small_run: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from export.onnx_export import export_onnx

    folder = tmp_path_factory.mktemp("onnx")
    paths = {"fp32": folder / "model.onnx", "fp16": folder / "model-fp16.onnx"}
    export_onnx(small_run, paths["fp32"])
    export_onnx(small_run, paths["fp16"], fp16=True)
    return paths
