"""Frame sources for the live pipeline: cameras, video files, stream URLs and image folders.

Nothing here starts a thread: the pipeline's capture thread calls ``read()`` until it returns None.
``live`` sources (cameras, URLs) produce frames whether or not anyone reads them, so the pipeline keeps only
the latest one; files and folders are read in order and nothing is dropped. A source owns its device or
file handle: use it as a context manager or call ``close()`` (safe to call twice).
"""

import platform
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

import cv2
import numpy as np

from stream.errors import SwapcamError
from stream.lifecycle import OwnedResource
from stream.media import IMAGE_SUFFIXES, UnreadableMedia, read_frame, read_image, short_read
from stream.types import BGRFrame

DEFAULT_FPS = 30.0  # image folders without --fps, and videos whose container gives no usable rate
STREAM_TIMEOUT_MS = 10_000  # opening a URL, and each read from it
CAMERA_TIMEOUT_S = 30.0  # a lost camera that is not back within this ends the run (--camera-timeout)
FIRST_RECONNECT_DELAY_S, MAX_RECONNECT_DELAY_S = 0.25, 1.0  # reopen attempts: 0.25, 0.5, 1, 1, ... s apart


class Source(Protocol):
    fps: float
    size: tuple[int, int]  # (width, height)
    live: bool
    frame_count: int | None  # None when unknown (cameras, URLs)

    def read(self) -> BGRFrame | None: ...

    def describe(self) -> str: ...

    def close(self) -> None: ...

    def __enter__(self) -> "Source": ...

    def __exit__(self, *exc_info: object) -> None: ...


@dataclass(frozen=True)
class CaptureOptions:
    """What the user asked of the source; each field applies to some kinds of source only.

    width, height, fps: requested of a camera; fps is also the rate of an image folder (default 30).
    realtime: files and folders are read at their own frame rate instead of as fast as possible.
    camera_timeout: seconds a lost camera may take to come back (default ``CAMERA_TIMEOUT_S``).
    """

    width: int | None = None
    height: int | None = None
    fps: float | None = None
    realtime: bool = False
    camera_timeout: float | None = None

    def __post_init__(self) -> None:
        for name in ("width", "height"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be a positive number of pixels, got {value}")
        if self.fps is not None and not 0 < self.fps <= 1000:
            raise ValueError(f"fps must be in (0, 1000], got {self.fps}")
        if self.camera_timeout is not None and not 0 < self.camera_timeout <= 3600:
            raise ValueError(f"camera timeout must be in (0, 3600] seconds, got {self.camera_timeout}")


class _OwnedSource(OwnedResource):
    """Lifecycle shared by every source: see ``stream.lifecycle``."""

    live: bool
    fps: float
    size: tuple[int, int]
    frame_count: int | None = None


class Pacer:
    """Holds frame ``i`` back until ``i / fps`` seconds after the first frame; lateness never accumulates."""

    def __init__(self, fps: float) -> None:
        self._period = 1.0 / fps
        self._start: float | None = None

    def wait(self, index: int) -> None:
        now = time.monotonic()
        if self._start is None:
            self._start = now
        time.sleep(max(0.0, self._start + index * self._period - now))


class _CaptureSource(_OwnedSource):
    """A source read through one ``cv2.VideoCapture``."""

    def _open(self, capture: cv2.VideoCapture) -> BGRFrame | None:
        """Own ``capture`` and decode its first frame; None (and closed) when it yields none."""
        self._capture, self._closed = capture, False
        frame = read_frame(capture) if capture.isOpened() else None
        if frame is None:
            self.close()
        return frame

    def _release(self) -> None:
        self._capture.release()


def _frame_size(frame: BGRFrame) -> tuple[int, int]:
    return frame.shape[1], frame.shape[0]


def _usable_fps(reported: float, fallback: float) -> float:
    # Containers and drivers report 0, NaN or absurd values when they do not know.
    return reported if 0 < reported <= 1000 else fallback


class CameraSource(_CaptureSource):
    """A camera by index (/dev/videoN on Linux), with a one-frame driver buffer for low latency.

    A camera that stops delivering (unplugged, taken by another application) is reopened with a backoff of
    0.25 s doubling to ``MAX_RECONNECT_DELAY_S``; meanwhile ``read`` keeps the pipeline fed at the camera's
    rate with its last good frame, dimmed and marked "camera lost", so a virtual camera never freezes. A
    camera that is not back within ``options.camera_timeout`` seconds ends the run with one error line.
    ``opener`` makes the ``cv2.VideoCapture`` (tests give a fake); ``log`` hears of losses and returns.
    """

    live = True

    def __init__(
        self,
        index: int,
        options: CaptureOptions,
        log: Callable[[str], None] = lambda message: None,
        opener: Callable[[], Any] | None = None,
    ) -> None:
        self.index, self._log = index, log
        api = cv2.CAP_V4L2 if platform.system() == "Linux" else cv2.CAP_ANY
        self._opener = opener or (lambda: _requested(cv2.VideoCapture(index, api), options))
        self._timeout = options.camera_timeout or CAMERA_TIMEOUT_S
        frame = self._open(self._opener())
        if frame is None:
            raise SwapcamError(
                f"camera {index} does not deliver frames: expected a free camera at index {index}; "
                "list the cameras with `swapcam doctor` (or `ls /dev/video*` on Linux)"
            )
        # The probe frame only measures the size: by the time the pipeline reads, it would be stale.
        self.size = _frame_size(frame)
        self.fps = _usable_fps(self._capture.get(cv2.CAP_PROP_FPS), options.fps or DEFAULT_FPS)
        self._last: BGRFrame = frame
        self._lost_since: float | None = None
        self._next_try = 0.0
        self._delay = FIRST_RECONNECT_DELAY_S

    def read(self) -> BGRFrame:
        self._check_open()
        if self._lost_since is None:
            frame = read_frame(self._capture)
            if frame is not None:
                self._last = frame
                return frame
            self._lost_since = self._next_try = time.monotonic()
            self._delay = FIRST_RECONNECT_DELAY_S
            self._log(
                f"camera {self.index} stopped delivering frames: reopening it (for up to {self._timeout:g} s)"
            )
        return self._recover()

    def _recover(self) -> BGRFrame:
        """One step of the outage: a reopen attempt when one is due; the placeholder frame, paced."""
        assert self._lost_since is not None
        now = time.monotonic()
        if now - self._lost_since > self._timeout:
            raise SwapcamError(
                f"camera {self.index} stopped delivering frames and was not back within {self._timeout:g} s "
                "(--camera-timeout): reconnect it, or close the application that took it, and start again"
            )
        if now >= self._next_try:
            frame = self._reopen()
            if frame is not None:
                self._log(f"camera {self.index} is back after {now - self._lost_since:.1f} s")
                self._lost_since, self._last = None, frame
                return frame
            self._next_try = now + self._delay
            self._delay = min(2 * self._delay, MAX_RECONNECT_DELAY_S)
        time.sleep(1.0 / self.fps)
        return lost_frame(self._last)

    def _reopen(self) -> BGRFrame | None:
        """A fresh capture of the same size in place of the old one, and its first frame; None if not yet."""
        self._capture.release()
        capture = self._opener()
        frame = read_frame(capture) if capture.isOpened() else None
        if frame is not None and _frame_size(frame) == self.size:
            self._capture = capture
            return frame
        capture.release()
        return None

    def describe(self) -> str:
        code = int(self._capture.get(cv2.CAP_PROP_FOURCC)) & 0xFFFFFFFF if not self._closed else 0
        pixels = code.to_bytes(4, "little").decode("ascii", "replace").strip("\0 ") or "?"
        return f"camera {self.index}, {self.size[0]}x{self.size[1]} {pixels} at {self.fps:g} fps"


def lost_frame(last: BGRFrame) -> BGRFrame:
    """The placeholder sent while a camera is lost: its last frame at a third of its brightness, marked."""
    frame = (last // 3).astype(np.uint8)
    height = frame.shape[0]
    scale = max(0.5, height / 720)
    place, thickness = (int(20 * scale), int(height / 2)), max(1, int(2 * scale))
    white = (255, 255, 255)
    text = "camera lost - reconnecting"
    cv2.putText(frame, text, place, cv2.FONT_HERSHEY_SIMPLEX, scale, white, thickness, cv2.LINE_AA)
    return frame


def _requested(capture: cv2.VideoCapture, options: CaptureOptions) -> cv2.VideoCapture:
    # The pixel format goes first: drivers list sizes and rates per format. Cameras without MJPG
    # ignore the request; with it, USB cameras reach 30 fps at 720p and above.
    capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*"MJPG"))
    capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
    for prop, value in (
        (cv2.CAP_PROP_FRAME_WIDTH, options.width),
        (cv2.CAP_PROP_FRAME_HEIGHT, options.height),
        (cv2.CAP_PROP_FPS, options.fps),
    ):
        if value is not None:
            capture.set(prop, value)
    return capture


class StreamSource(_CaptureSource):
    """A network stream (rtsp://, http://, ...) through OpenCV's FFmpeg; its end ends the run."""

    live = True

    def __init__(self, url: str) -> None:
        self.url = url
        timeouts = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, STREAM_TIMEOUT_MS]
        timeouts += [cv2.CAP_PROP_READ_TIMEOUT_MSEC, STREAM_TIMEOUT_MS]
        frame = self._open(cv2.VideoCapture(url, cv2.CAP_FFMPEG, timeouts))
        if frame is None:
            raise SwapcamError(
                f"stream {url} cannot be read: expected a reachable video stream URL (server down, "
                f"wrong address, or nothing received within {STREAM_TIMEOUT_MS / 1000:g} s)"
            )
        self.size = _frame_size(frame)
        self.fps = _usable_fps(self._capture.get(cv2.CAP_PROP_FPS), DEFAULT_FPS)

    def read(self) -> BGRFrame | None:
        self._check_open()
        return read_frame(self._capture)

    def describe(self) -> str:
        return f"stream {self.url}, {self.size[0]}x{self.size[1]} at {self.fps:g} fps"


class VideoFileSource(_CaptureSource):
    """A video file, every frame in order: as fast as possible, or at its own rate with ``realtime``."""

    live = False

    def __init__(self, path: Path, realtime: bool = False) -> None:
        self.path = path
        frame = self._open(cv2.VideoCapture(str(path)))
        if frame is None:
            raise UnreadableMedia(
                f"{path}: expected a video file OpenCV can decode, got a {path.stat().st_size}-byte "
                f"'{path.suffix}' file it cannot read a frame from"
            )
        self._pending: BGRFrame | None = frame  # decoded while probing; frame 0 of the stream
        self.size = _frame_size(frame)
        self.fps = _usable_fps(self._capture.get(cv2.CAP_PROP_FPS), DEFAULT_FPS)
        self.frame_count = max(int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT)), 0) or None
        self._pacer = Pacer(self.fps) if realtime else None
        self._index = 0
        self.ended = False  # read() has met the end of the stream

    def read(self) -> BGRFrame | None:
        self._check_open()
        frame, self._pending = self._pending, None
        if frame is None:
            frame = read_frame(self._capture)
            if frame is None:
                self.ended = True
                return None
        if self._pacer is not None:
            self._pacer.wait(self._index)
        self._index += 1
        return frame

    def shortfall(self) -> str | None:
        """After the end: how many frames were read of how many the container announced, when fewer
        (``stream.media.short_read``); None otherwise."""
        return short_read(self.path, self._index, self.frame_count) if self.ended else None

    def describe(self) -> str:
        pace = "at its own rate" if self._pacer is not None else "as fast as possible"
        frames = f", {self.frame_count} frames" if self.frame_count else ""
        return f"video {self.path}, {self.size[0]}x{self.size[1]} {self.fps:g} fps{frames}, read {pace}"


def _natural_key(path: Path) -> list[str | int]:
    # frame2.png before frame10.png; split() puts text at even and numbers at odd positions, so the
    # keys of two names always compare like with like.
    parts = re.split(r"(\d+)", path.name)
    return [int(part) if i % 2 else part for i, part in enumerate(parts)]


class ImageFolderSource(_OwnedSource):
    """The images of one folder (not its subfolders) in natural name order, all of one size.

    Images are decoded as they are read, so a size that differs is reported when that image is reached.
    """

    live = False

    def __init__(self, folder: Path, fps: float = DEFAULT_FPS, realtime: bool = False) -> None:
        self.folder, self.fps = folder, fps
        self._paths = sorted(
            (p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
            key=_natural_key,
        )
        if not self._paths:
            raise SwapcamError(
                f"folder {folder} holds no images: expected files named {' '.join(sorted(IMAGE_SUFFIXES))}"
            )
        self.size = _frame_size(read_image(self._paths[0]))
        self.frame_count = len(self._paths)
        self._pacer = Pacer(fps) if realtime else None
        self._index = 0
        self._closed = False

    def read(self) -> BGRFrame | None:
        self._check_open()
        if self._index >= len(self._paths):
            return None
        path = self._paths[self._index]
        frame = read_image(path)
        if _frame_size(frame) != self.size:
            width, height = _frame_size(frame)
            raise SwapcamError(
                f"{path} is {width}x{height}: every image of {self.folder} must be "
                f"{self.size[0]}x{self.size[1]}, the size of {self._paths[0].name}"
            )
        if self._pacer is not None:
            self._pacer.wait(self._index)
        self._index += 1
        return frame

    def describe(self) -> str:
        width, height = self.size
        return f"image folder {self.folder}, {self.frame_count} images {width}x{height} at {self.fps:g} fps"

    def _release(self) -> None:
        self._paths = []


@dataclass(frozen=True)
class SourceKind:
    accepts: Callable[[str], bool]
    options: frozenset[str]  # the CaptureOptions fields this kind uses
    open: Callable[[str, CaptureOptions], Source]


def _is_url(text: str) -> bool:
    return "://" in text


def _open_folder(text: str, options: CaptureOptions) -> Source:
    return ImageFolderSource(Path(text), options.fps or DEFAULT_FPS, options.realtime)


# Tried in order; the first kind that accepts the --source text opens it.
SOURCE_KINDS = MappingProxyType(
    {
        "stream URL": SourceKind(_is_url, frozenset(), lambda text, _: StreamSource(text)),
        "image folder": SourceKind(
            lambda text: Path(text).is_dir(), frozenset({"fps", "realtime"}), _open_folder
        ),
        "video file": SourceKind(
            lambda text: Path(text).is_file(),
            frozenset({"realtime"}),
            lambda text, options: VideoFileSource(Path(text), options.realtime),
        ),
    }
)
CAMERA_OPTIONS = frozenset({"width", "height", "fps", "camera_timeout"})


def _reject_unused(options: CaptureOptions, used: frozenset[str], kind: str) -> None:
    """Options the user set that this kind of source would ignore are an error, not silently dropped."""
    given = {f.name for f in fields(options) if getattr(options, f.name) != f.default}
    if given - used:
        names = ", ".join(f"--{name}" for name in sorted(given - used))
        accepted = ", ".join(f"--{name}" for name in sorted(used)) or "none of the capture options"
        raise SwapcamError(f"{names} cannot be set for a {kind}, which takes {accepted}")


def open_source(
    camera: int | None,
    source: str | None,
    options: CaptureOptions,
    log: Callable[[str], None] = lambda message: None,
) -> Source:
    """Open a camera by index, or a ``source`` that is a stream URL, an image folder or a video file.

    A ``source`` made of digits only is a path like any other: when no such file exists the error points to
    the camera option instead of guessing that a camera was meant.
    """
    if camera is not None and source is None:
        if camera < 0:
            raise SwapcamError(f"a camera index is 0 or more, got {camera}")
        _reject_unused(options, CAMERA_OPTIONS, "camera")
        return CameraSource(camera, options, log)
    if source is not None and camera is None:
        return _open_named(source, options)
    raise SwapcamError(f"expected exactly one of a camera index and a source, got {camera=} {source=}")


def _open_named(source: str, options: CaptureOptions) -> Source:
    for name, kind in SOURCE_KINDS.items():
        if kind.accepts(source):
            _reject_unused(options, kind.options, name)
            return kind.open(source, options)
    raise SwapcamError(missing_source(source))


def missing_source(source: str) -> str:
    """The error for a ``--source`` that names nothing."""
    hint = f" (for camera {source}, use --camera {source})" if source.isdigit() else ""
    return f"no such file or folder: {source}{hint}; expected a video file, image folder or URL"
