import gc
import time

import cv2
import numpy as np
import pytest

from stream import capture
from stream.capture import (
    CameraSource,
    CaptureOptions,
    ImageFolderSource,
    Pacer,
    VideoFileSource,
    open_source,
)
from stream.errors import SwapcamError
from tests.stream.fakes import UnpluggableDevice, number_of, numbered_frame

STEP = 10  # grey levels between consecutive frames: far more than the codec's error on a flat frame


def write_video(path, frames: int, fps: float = 25.0, size=(64, 48)):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
    assert writer.isOpened()
    for index in range(frames):
        writer.write(numbered_frame(index * STEP, size))
    writer.release()
    return path


def decoded_number(frame) -> int:
    return round(float(frame.mean()) / STEP)


def read_all(source) -> list:
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    return frames


def test_a_video_file_gives_every_frame_in_order(tmp_path):
    path = write_video(tmp_path / "clip.mp4", 20)
    with open_source(None, str(path), CaptureOptions()) as source:
        assert not source.live and source.size == (64, 48) and source.fps == 25.0
        assert source.frame_count == 20
        frames = read_all(source)
        assert source.read() is None
        assert "clip.mp4" in source.describe() and "as fast as possible" in source.describe()
    assert [decoded_number(frame) for frame in frames] == list(range(20))
    assert all(frame.shape == (48, 64, 3) and frame.dtype == np.uint8 for frame in frames)


def test_realtime_reads_a_file_at_its_own_rate(tmp_path):
    path = write_video(tmp_path / "clip.mp4", 13, fps=30.0)
    with open_source(None, str(path), CaptureOptions(realtime=True)) as source:
        start = time.monotonic()
        frames = read_all(source)
        elapsed = time.monotonic() - start
    assert len(frames) == 13
    assert elapsed >= 0.8 * 12 / 30.0  # the last of 13 frames is due 12 periods after the first


class FakeClock:
    """Stands in for the ``time`` module: sleeping advances the clock, and work takes what the test says."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


def test_the_pacer_never_accumulates_lateness(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(capture, "time", clock)
    pacer = Pacer(fps=10.0)
    pacer.wait(0)  # starts the schedule: due at 100.0, 100.1, 100.2, ...
    clock.now += 0.25  # frame 1 took long to decode: frames 1 and 2 are late
    pacer.wait(1)
    pacer.wait(2)
    clock.now += 0.01
    pacer.wait(3)  # due at 100.3 whatever happened before
    assert clock.sleeps == [0.0, 0.0, 0.0, 0.04]
    assert clock.now == pytest.approx(100.3)


def test_the_real_woman_clip_is_read_whole(sample_paths):
    with open_source(None, str(sample_paths["woman"]), CaptureOptions()) as source:
        assert source.size == (640, 360) and source.frame_count == 472
        count = 0
        while source.read() is not None:
            count += 1
    assert count == 472


@pytest.mark.parametrize("name", ["notes.txt", "fake.mp4"])
def test_a_file_that_is_not_a_video_is_refused(tmp_path, name):
    path = tmp_path / name
    path.write_text("not a video")
    with pytest.raises(SwapcamError, match=r"expected a video file .* 11-byte"):
        open_source(None, str(path), CaptureOptions())


def test_a_missing_path_is_refused_and_digits_point_to_the_camera_option(tmp_path):
    with pytest.raises(SwapcamError, match="no such file or folder"):
        open_source(None, str(tmp_path / "nothing.mp4"), CaptureOptions())
    with pytest.raises(SwapcamError, match="use --camera 7"):
        open_source(None, "7", CaptureOptions())


def test_a_camera_that_does_not_open_is_named_with_a_hint():
    with pytest.raises(SwapcamError, match=r"camera 99 .*swapcam doctor.*/dev/video"):
        open_source(99, None, CaptureOptions())
    with pytest.raises(SwapcamError, match="0 or more, got -1"):
        open_source(-1, None, CaptureOptions())


def test_an_unreachable_stream_url_is_refused():
    with pytest.raises(SwapcamError, match=r"stream http://127\.0\.0\.1:9/live cannot be read"):
        open_source(None, "http://127.0.0.1:9/live", CaptureOptions())


def test_exactly_one_of_camera_and_source_is_given():
    with pytest.raises(SwapcamError, match="exactly one"):
        open_source(0, "clip.mp4", CaptureOptions())
    with pytest.raises(SwapcamError, match="exactly one"):
        open_source(None, None, CaptureOptions())


def write_images(folder, names, size=(32, 24)):
    folder.mkdir(exist_ok=True)
    for index, name in enumerate(names):
        cv2.imwrite(str(folder / name), numbered_frame(index * STEP, size))


def test_an_image_folder_is_read_in_natural_name_order(tmp_path):
    names = ["f1.png", "f2.png", "f10.png", "f9.png"]  # written in this order: 0, 10, 20, 30
    write_images(tmp_path / "frames", names)
    (tmp_path / "frames" / "notes.txt").write_text("ignored")
    with open_source(None, str(tmp_path / "frames"), CaptureOptions(fps=12.5)) as source:
        assert (source.size, source.fps, source.frame_count, source.live) == ((32, 24), 12.5, 4, False)
        numbers = [number_of(frame) // STEP for frame in read_all(source)]
    assert numbers == [0, 1, 3, 2]  # f1, f2, f9, f10


def test_an_image_folder_with_an_odd_size_out_is_refused_when_reached(tmp_path):
    write_images(tmp_path / "frames", ["a.png", "b.png"])
    cv2.imwrite(str(tmp_path / "frames" / "c.png"), numbered_frame(0, (40, 24)))
    with ImageFolderSource(tmp_path / "frames") as source:
        assert source.fps == 30.0
        source.read(), source.read()
        with pytest.raises(SwapcamError, match=r"c.png is 40x24: .* must be 32x24"):
            source.read()


def test_an_empty_folder_is_refused(tmp_path):
    with pytest.raises(SwapcamError, match="holds no images"):
        open_source(None, str(tmp_path), CaptureOptions())


def test_options_are_checked_and_those_a_source_would_ignore_are_refused(tmp_path):
    with pytest.raises(ValueError, match="width must be a positive"):
        CaptureOptions(width=0)
    with pytest.raises(ValueError, match="fps must be"):
        CaptureOptions(fps=-5)
    path = write_video(tmp_path / "clip.mp4", 3)
    with pytest.raises(SwapcamError, match="--fps, --width cannot be set for a video file"):
        open_source(None, str(path), CaptureOptions(width=640, fps=10))
    with pytest.raises(SwapcamError, match="--realtime cannot be set for a camera"):
        open_source(0, None, CaptureOptions(realtime=True))


def test_close_is_safe_twice_and_a_closed_source_cannot_be_read(tmp_path):
    source = VideoFileSource(write_video(tmp_path / "clip.mp4", 3))
    source.close()
    source.close()
    with pytest.raises(RuntimeError, match="closed"):
        source.read()


def test_a_source_that_is_never_closed_warns(tmp_path):
    source = VideoFileSource(write_video(tmp_path / "clip.mp4", 3))
    with pytest.warns(ResourceWarning, match="VideoFileSource was not closed"):
        del source
        gc.collect()


def test_a_camera_that_never_comes_back_ends_with_one_error_after_its_timeout():
    device = UnpluggableDevice(np.full((48, 64, 3), 90, np.uint8), fps=100.0, reads=3, gone_s=1000.0)
    camera = CameraSource(0, CaptureOptions(camera_timeout=0.5), opener=device.capture)
    started = time.monotonic()
    with camera, pytest.raises(SwapcamError, match=r"was not back within 0.5 s \(--camera-timeout\)"):
        while time.monotonic() - started < 5:
            camera.read()
    assert time.monotonic() - started < 2 and device.opened == device.released
