"""Exporting the shipped demo model: both precisions pass parity and carry the full contract."""

import pytest

from stream.cli import main
from trained.demo import CHECKPOINT


@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_the_demo_model_exports_and_verifies(precision, tmp_path, capsys):
    out = tmp_path / f"demo-{precision}.onnx"
    flags = ["--fp16"] if precision == "fp16" else []
    assert main(["export", "onnx", str(CHECKPOINT), "--out", str(out), *flags]) == 0
    assert ": ok" in capsys.readouterr().out
    assert main(["export", "verify", str(out), "--run", str(CHECKPOINT)]) == 0
    out_text = capsys.readouterr().out
    for line in ("identity_a: woman", "identity_b: man", "resolution: 96", f"precision: {precision}"):
        assert line in out_text
    assert out_text.strip().splitlines()[-1].endswith(": ok")
