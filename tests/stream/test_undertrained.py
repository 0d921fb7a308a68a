"""Clearly undertrained models are named: in `swapcam live` (first swapped faces) and in `swapcam export`."""

from stream.live import LiveOptions, run_live
from tests.stream.fakes import KeepingSink, ListSource


def messages_of(model, frames) -> list[str]:
    said: list[str] = []
    run_live(ListSource(frames), [KeepingSink()], LiveOptions(model=model, label=False), said.append)
    return said


def test_a_model_trained_for_three_steps_is_called_undertrained(exported, woman_frames):
    frames = [frame.copy() for frame in woman_frames * 5]  # 35 faces: the check looks at the first 30
    warnings = [line for line in messages_of(exported["fp32"], frames) if "undertrained" in line]
    assert len(warnings) >= 1 and "noise, no face yet" in " ".join(warnings)


def test_the_demo_model_is_not(demo_model, woman_frames):
    frames = [frame.copy() for frame in woman_frames * 5]
    assert not [line for line in messages_of(demo_model, frames) if "undertrained" in line]


def test_export_reports_the_same_signs(small_run, tmp_path):
    from export.onnx_export import export_onnx

    report = export_onnx(small_run, tmp_path / "m.onnx")
    assert any("noise, no face yet" in sign for sign in report.undertrained)
