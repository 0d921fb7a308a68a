import gc
import platform

import cv2
import numpy as np
import pytest
import pyvirtualcam
from pyvirtualcam.util import encode_fourcc

from stream.errors import SwapcamError
from stream.pipeline import StopRequested
from stream.sinks import FileSink, NullSink, PreviewSink, VirtualCameraSink
from tests.stream.fakes import fake_backend, number_of, numbered_frame

HINT = "sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label=swapcam"


class FailingBackend:
    def __init__(self, **kw):
        raise RuntimeError("No v4l2 loopback device found at /dev/video[0-99].")


def frames(count: int, size=(64, 48)) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (size[1], size[0], 3), np.uint8) for _ in range(count)]


@pytest.mark.parametrize(
    ("native", "code"),
    [("I420", cv2.COLOR_BGR2YUV_I420), ("raw ", cv2.COLOR_BGR2RGB), ("J400", cv2.COLOR_BGR2GRAY)],
)
def test_frames_reach_the_virtual_camera_in_its_native_format_in_order(backends, native, code):
    backend = backends("fake", fake_backend(native))
    sent = frames(5)
    with VirtualCameraSink(64, 48, 30.0, backend="fake") as sink:
        for frame in sent:
            sink.send(frame)
        assert "/dev/fake7 (fake backend, 64x48" in sink.describe()
    probe, camera = backend.opened
    assert probe.closed and probe.frames == [] and probe.fourcc == encode_fourcc("24BG")
    assert camera.fourcc == encode_fourcc(native) and camera.name == "/dev/fake7" and camera.closed
    assert (camera.width, camera.height, camera.fps) == (64, 48, 30.0)
    for got, frame in zip(camera.frames, sent, strict=True):
        np.testing.assert_array_equal(got, cv2.cvtColor(frame, code).ravel())


def test_each_frame_is_converted_exactly_once(backends, monkeypatch):
    backends("fake", fake_backend("I420"))
    calls = []
    convert = cv2.cvtColor
    monkeypatch.setattr(cv2, "cvtColor", lambda *args: calls.append(args[1]) or convert(*args))
    with VirtualCameraSink(64, 48, 30.0, backend="fake") as sink:
        for frame in frames(4):
            sink.send(frame)
    assert calls == [cv2.COLOR_BGR2YUV_I420] * 4


@pytest.mark.parametrize("native", [None, "NV12"])
def test_a_format_opencv_cannot_produce_gets_bgr(backends, native):
    backend = backends("fake", fake_backend(native))
    sent = frames(3)
    with VirtualCameraSink(64, 48, 30.0, backend="fake") as sink:
        for frame in sent:
            sink.send(frame)
        assert "BGR" in sink.describe()
    (camera,) = backend.opened  # opened once: nothing better to reopen with
    assert camera.fourcc == encode_fourcc("24BG")
    assert [got.tobytes() for got in camera.frames] == [frame.tobytes() for frame in sent]


def test_odd_sizes_are_sent_as_bgr_to_a_yuv420_camera(backends):
    backend = backends("fake", fake_backend("I420"))
    with VirtualCameraSink(65, 48, 30.0, backend="fake") as sink:
        sink.send(np.zeros((48, 65, 3), np.uint8))
    (camera,) = backend.opened
    assert camera.fourcc == encode_fourcc("24BG") and len(camera.frames) == 1


def test_without_a_virtual_camera_device_the_error_gives_the_modprobe_hint(backends, monkeypatch):
    backends("failing", FailingBackend)
    with pytest.raises(SwapcamError, match="No v4l2 loopback device found") as raised:
        VirtualCameraSink(64, 48, 30.0, backend="failing")
    assert HINT in str(raised.value)
    monkeypatch.setattr(pyvirtualcam.camera, "BACKENDS", {"failing": FailingBackend})
    with pytest.raises(SwapcamError, match="modprobe v4l2loopback"):
        VirtualCameraSink(64, 48, 30.0)  # every backend tried, as without --vcam-backend


def test_an_unknown_backend_and_wrong_frames_are_refused(backends):
    with pytest.raises(SwapcamError, match="unknown virtual camera backend 'nope'"):
        VirtualCameraSink(64, 48, 30.0, backend="nope")
    backends("fake", fake_backend("I420"))
    with (
        VirtualCameraSink(64, 48, 30.0, backend="fake") as sink,
        pytest.raises(ValueError, match="48, 64, 3"),
    ):
        sink.send(np.zeros((64, 48, 3), np.uint8))


def test_a_virtual_camera_sink_closes_once_and_warns_if_leaked(backends):
    backend = backends("fake", fake_backend("I420"))
    sink = VirtualCameraSink(64, 48, 30.0, backend="fake")
    sink.close()
    sink.close()
    assert backend.opened[-1].closed
    with pytest.raises(RuntimeError, match="closed"):
        sink.send(frames(1)[0])
    leaked = VirtualCameraSink(64, 48, 30.0, backend="fake")
    with pytest.warns(ResourceWarning, match="VirtualCameraSink was not closed"):
        del leaked
        gc.collect()
    assert backend.opened[-1].closed


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_a_file_sink_writes_every_frame_and_renames_on_close(tmp_path, suffix):
    path = tmp_path / "out" / f"swapped{suffix}"
    with FileSink(path, 25.0, (64, 48)) as sink:
        for index in range(12):
            sink.send(numbered_frame(index * 20))
        assert not path.exists() and (tmp_path / "out" / f"swapped.partial{suffix}").exists()
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
    capture = cv2.VideoCapture(str(path))
    read = []
    try:
        while (result := capture.read())[0]:
            read.append(result[1])
    finally:
        capture.release()
    assert len(read) == 12 and all(frame.shape == (48, 64, 3) for frame in read)
    assert [round(number_of(frame) / 20) for frame in read] == list(range(12))


def test_a_file_sink_without_frames_leaves_no_file(tmp_path):
    FileSink(tmp_path / "empty.mp4", 25.0, (64, 48)).close()
    assert list(tmp_path.iterdir()) == []


def test_a_file_sink_refuses_unknown_suffixes_unwritable_places_and_wrong_frames(tmp_path):
    with pytest.raises(SwapcamError, match=r"expected an output file ending in \.mp4 or \.mkv, got '\.avi'"):
        FileSink(tmp_path / "out.avi", 25.0, (64, 48))
    (tmp_path / "taken").write_text("a file where a folder should be")
    with pytest.raises(SwapcamError, match="cannot create the folder"):
        FileSink(tmp_path / "taken" / "out.mp4", 25.0, (64, 48))
    with pytest.raises(ValueError, match="positive size and frame rate"):
        FileSink(tmp_path / "out.mp4", 0.0, (64, 48))
    with FileSink(tmp_path / "out.mp4", 25.0, (64, 48)) as sink, pytest.raises(ValueError, match="48, 64, 3"):
        sink.send(numbered_frame(0, (32, 24)))


def test_the_null_sink_counts(tmp_path):
    with NullSink() as sink:
        for index in range(3):
            sink.send(numbered_frame(index))
    assert sink.frames == 3
    sink.close()


@pytest.fixture
def fake_highgui(monkeypatch):
    """Records HighGUI calls; ``keys`` are what waitKey returns, ``visible`` what the window reports."""
    state = {"shown": 0, "destroyed": [], "keys": [], "visible": 1.0}
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(cv2, "imshow", lambda title, frame: state.update(shown=state["shown"] + 1))
    monkeypatch.setattr(cv2, "waitKey", lambda delay: state["keys"].pop(0) if state["keys"] else -1)
    monkeypatch.setattr(cv2, "getWindowProperty", lambda title, prop: state["visible"])
    monkeypatch.setattr(cv2, "destroyWindow", state["destroyed"].append)
    return state


@pytest.mark.parametrize("key", [ord("q"), 27])
def test_q_or_esc_in_the_preview_is_a_stop_request(fake_highgui, key):
    with PreviewSink("swapcam") as sink:
        sink.send(numbered_frame(0))
        assert fake_highgui["shown"] == 0  # the deliver thread only hands the frame over
        sink.pump()
        sink.send(numbered_frame(1))
        fake_highgui["keys"].append(key)
        with pytest.raises(StopRequested):
            sink.pump()
        with pytest.raises(StopRequested):
            sink.send(numbered_frame(2))  # the pipeline's deliver thread learns of the quit too
    assert fake_highgui["shown"] == 2 and fake_highgui["destroyed"] == ["swapcam"]


def test_the_preview_shows_only_the_newest_frame_and_closing_it_stops(fake_highgui, monkeypatch):
    shown = []
    monkeypatch.setattr(cv2, "imshow", lambda title, frame: shown.append(number_of(frame)))
    with PreviewSink("swapcam") as sink:
        sink.pump()  # nothing to show yet: no window, no key read
        for index in range(3):
            sink.send(numbered_frame(index))
        sink.pump()
        sink.pump()
        assert shown == [2]
        fake_highgui["visible"] = 0.0
        with pytest.raises(StopRequested):
            sink.pump()


def test_a_preview_never_shown_destroys_no_window(fake_highgui):
    PreviewSink("swapcam").close()
    assert fake_highgui["destroyed"] == []


@pytest.mark.skipif(platform.system() != "Linux", reason="the display check is for X11 and Wayland")
def test_a_preview_without_a_display_is_refused_before_opencv_can_abort(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(SwapcamError, match="needs a display"):
        PreviewSink("swapcam")


def test_a_frame_folder_sink_writes_every_nth_frame_under_its_number(tmp_path):
    from stream.sinks import FrameFolderSink

    with FrameFolderSink(tmp_path, every=3) as sink:
        for value in range(7):
            sink.send(np.full((4, 6, 3), value * 10, np.uint8))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["000000.png", "000003.png", "000006.png"]
    assert cv2.imread(str(tmp_path / "000003.png"))[0, 0, 0] == 30
