"""The perfect-model yardstick of `swapcam eval`: a passthrough model with the swap model's contract."""

from pathlib import Path

import numpy as np
import pytest

from bench.ceiling import model_info, passthrough_model
from bench.eval_flow import swap_to_folder
from bench.evaluate import detail_ratio, folder_pairs
from stream.backends import choose_backend, open_backend

DEMO = Path("trained/demo/lite96-woman-man.pt")


@pytest.fixture(scope="module")
def passthrough(tmp_path_factory) -> Path:
    return passthrough_model(model_info(DEMO), tmp_path_factory.mktemp("ceiling") / "passthrough.onnx")


def test_the_passthrough_model_keeps_the_contract_and_returns_its_input(passthrough):
    backend = open_backend(passthrough, choose_backend(passthrough), lambda message: None)
    try:
        assert backend.info.resolution == 96
        assert backend.info.template == model_info(DEMO).template
        crops = np.random.default_rng(0).integers(0, 256, (2, 96, 96, 3), dtype=np.uint8)
        faces, masks = backend.swap(crops)
    finally:
        backend.close()
    assert np.abs(faces * 255 - crops).max() < 0.51 and masks.shape == (2, 96, 96) and (masks == 1).all()


def test_a_perfect_model_at_96_px_loses_some_but_not_all_detail(passthrough, sample_paths, tmp_path):
    man = sample_paths["man"]
    swap_to_folder(passthrough, man, tmp_path, lambda message: None)
    ratio = detail_ratio(folder_pairs(man, tmp_path, every=6))
    assert 0.3 < ratio < 0.98  # the crop is smaller than the face in the frame: upscaling softens it
