"""Stand-ins for devices: a camera that produces numbered frames at a fixed rate, a virtual camera."""

import time
from typing import ClassVar

import numpy as np
from pyvirtualcam.util import encode_fourcc

from stream.types import BGRFrame


def numbered_frame(index: int, size: tuple[int, int] = (64, 48)) -> BGRFrame:
    """A frame whose pixels all equal ``index % 256``: its number survives any copy."""
    return np.full((size[1], size[0], 3), index % 256, np.uint8)


def number_of(frame: BGRFrame) -> int:
    return int(frame[0, 0, 0])


class FakeCamera:
    """A live source: ``frames`` numbered frames, one every 1/fps seconds, then the end."""

    live = True
    frame_count = None

    def __init__(self, frames: int, fps: float = 200.0, size: tuple[int, int] = (64, 48)) -> None:
        self.fps, self.size, self._frames = fps, size, frames
        self._sent = 0
        self._next = time.monotonic()
        self.closed = False

    def read(self) -> BGRFrame | None:
        if self._sent >= self._frames:
            return None
        self._next += 1.0 / self.fps
        time.sleep(max(0.0, self._next - time.monotonic()))
        self._sent += 1
        return numbered_frame(self._sent - 1, self.size)

    def describe(self) -> str:
        return f"fake camera {self.size[0]}x{self.size[1]} at {self.fps:g} fps"

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> "FakeCamera":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def fake_backend(native: str | None):
    """A pyvirtualcam backend class whose native format is ``native`` (a libyuv FourCC, or None)."""

    class FakeBackend:
        opened: ClassVar[list["FakeBackend"]] = []

        def __init__(self, *, width, height, fps, fourcc, device, **kw):
            self.width, self.height, self.fps, self.fourcc = width, height, fps, fourcc
            self.name = device or "/dev/fake7"
            self.frames: list[np.ndarray] = []
            self.closed = False
            FakeBackend.opened.append(self)

        def send(self, frame):
            assert frame.ndim == 1 and frame.dtype == np.uint8 and frame.flags.c_contiguous
            self.frames.append(frame.copy())

        def close(self):
            self.closed = True

        def device(self):
            return self.name

        def native_fourcc(self):
            return encode_fourcc(native) if native else None

    return FakeBackend


class ListSource:
    """A source over given frames: a file (``live=False``) or a camera paced at ``fps`` (``live=True``)."""

    frame_count: int | None = None

    def __init__(self, frames: list[BGRFrame], live: bool = False, fps: float = 30.0) -> None:
        self.live, self.fps = live, fps
        self.size = (frames[0].shape[1], frames[0].shape[0])
        self._frames, self._sent = frames, 0
        self._next = time.monotonic()

    def read(self) -> BGRFrame | None:
        if self._sent >= len(self._frames):
            return None
        if self.live:
            self._next += 1.0 / self.fps
            time.sleep(max(0.0, self._next - time.monotonic()))
        self._sent += 1
        return self._frames[self._sent - 1].copy()

    def describe(self) -> str:
        return f"{len(self._frames)} frames{' live' if self.live else ''}"

    def close(self) -> None:
        pass

    def __enter__(self) -> "ListSource":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class KeepingSink:
    """Keeps a copy of every frame it is sent."""

    def __init__(self) -> None:
        self.frames: list[BGRFrame] = []

    def send(self, frame: BGRFrame) -> None:
        self.frames.append(frame.copy())

    def describe(self) -> str:
        return "memory"

    def close(self) -> None:
        pass

    def __enter__(self) -> "KeepingSink":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class UnpluggableDevice:
    """A camera device for ``stream.capture.CameraSource``'s ``opener``: it delivers ``frame`` at ``fps``;
    after ``reads`` frames it is unplugged for ``gone_s`` seconds (its open captures die, new ones do not
    open), then it comes back. Counts the captures opened and released."""

    def __init__(self, frame: BGRFrame, fps: float, reads: int, gone_s: float) -> None:
        self.frame, self.fps, self.reads_left, self.gone_s = frame, fps, reads, gone_s
        self.unplugged_at: float | None = None
        self.opened = self.released = 0

    def present(self) -> bool:
        return self.unplugged_at is None or time.monotonic() >= self.back_at

    @property
    def back_at(self) -> float:
        return float("inf") if self.unplugged_at is None else self.unplugged_at + self.gone_s

    def count_read(self) -> None:
        self.reads_left -= 1
        if self.reads_left == 0:
            self.unplugged_at = time.monotonic()

    def capture(self) -> "FakeCapture":
        self.opened += 1
        return FakeCapture(self)


class FakeCapture:
    """What ``cv2.VideoCapture`` offers a camera source, over an ``UnpluggableDevice``."""

    def __init__(self, device: UnpluggableDevice) -> None:
        self.device = device
        self.alive = device.present()
        self.released = False
        self._next = time.monotonic()

    def isOpened(self) -> bool:
        return self.alive

    def read(self) -> tuple[bool, BGRFrame | None]:
        self.alive = self.alive and self.device.present()  # unplugged: this handle never works again
        if not self.alive:
            return False, None
        self._next += 1.0 / self.device.fps
        time.sleep(max(0.0, self._next - time.monotonic()))
        self.device.count_read()
        return True, self.device.frame.copy()

    def get(self, prop: int) -> float:
        return self.device.fps if prop == 5 else 0.0  # 5: cv2.CAP_PROP_FPS

    def set(self, prop: int, value: float) -> bool:
        return True

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.device.released += 1
