import pytest

from stream import doctor
from stream.cli import main


def fake_devices(tmp_path, real: list[int], loopback: list[int]):
    dev, sysfs = tmp_path / "dev", tmp_path / "sys"
    dev.mkdir()
    for index in real + loopback:
        (dev / f"video{index}").touch()
        named = sysfs / "class" / "video4linux" / f"video{index}"
        named.mkdir(parents=True)
        (named / "name").write_text("swapcam\n" if index in loopback else "USB camera\n")
    for index in loopback:
        (sysfs / "devices" / "virtual" / "video4linux" / f"video{index}").mkdir(parents=True)
    return dev, sysfs


def test_loopback_devices_are_found_and_named(tmp_path):
    dev, sysfs = fake_devices(tmp_path, real=[], loopback=[10, 2])
    assert doctor.video_devices(dev) == [2, 10]
    findings = doctor.camera_findings(dev, sysfs)
    assert [f.text for f in findings if f.topic == "virtual camera"] == [
        "/dev/video2 swapcam",
        "/dev/video10 swapcam",
    ]
    assert all(f.ok for f in findings if f.topic == "virtual camera")


def test_without_loopback_the_exact_modprobe_hint_is_given(tmp_path):
    dev, sysfs = fake_devices(tmp_path, real=[], loopback=[])
    [camera, virtual] = doctor.camera_findings(dev, sysfs)
    assert not camera.ok and not virtual.ok
    assert virtual.text.endswith("sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label=swapcam")


def test_the_cpu_provider_really_loads():
    findings = doctor.provider_findings()
    assert any("CPUExecutionProvider: loads" in f.text and f.ok for f in findings)


def test_doctor_command_reports_the_machine_and_the_backend_for_a_model(exported, capsys, tmp_path):
    assert main(["doctor", "--model", str(exported["fp32"])]) == 0
    out = capsys.readouterr().out
    assert "python" in out and "onnxruntime" in out and "tensorrt" in out
    assert "auto runs model.onnx with onnxruntime (CPUExecutionProvider, fp32)" in out
    assert main(["doctor", "--model", str(tmp_path / "none.onnx")]) == 1  # the model asked about cannot run
    assert "! backend" in capsys.readouterr().out


def test_only_providers_a_face_swap_can_use_are_listed(monkeypatch):
    import onnxruntime as ort

    listed = ["AzureExecutionProvider", "CPUExecutionProvider"]
    monkeypatch.setattr(ort, "get_available_providers", lambda: listed)
    assert list(doctor.provider_loads()) == ["CPUExecutionProvider"]
    assert not any("Azure" in finding.text for finding in doctor.provider_findings())


@pytest.mark.parametrize(
    ("arguments", "code", "line"),
    [
        (["--backend", "onnxruntime"], 0, "  requested       onnxruntime: runs here (onnxruntime on cpu)"),
        (["--device", "cpu"], 0, "  requested       cpu: runs here (onnxruntime on cpu, torch on cpu)"),
        (["--backend", "tensorrt"], 1, "! requested       tensorrt: cannot run here"),
        (["--backend", "tensorrt", "--device", "cpu"], 1, "! requested       tensorrt does not run on cpu"),
    ],
)
def test_a_backend_or_device_asked_for_sets_the_exit_code(arguments, code, line, capsys, monkeypatch):
    monkeypatch.setattr(doctor, "_tensorrt_loads", lambda: False)  # as on this machine, whatever it has
    monkeypatch.setattr(doctor, "camera_findings", lambda: [])
    assert main(["doctor", *arguments]) == code
    assert line.split() in [printed.split() for printed in capsys.readouterr().out.splitlines()]
