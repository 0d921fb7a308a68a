"""Where output frames go: a virtual webcam, a preview window, a video file, or nowhere (measuring only).

The pipeline's deliver thread calls ``send()`` with each output frame, in order. A sink owns its device,
window or file: use it as a context manager or call ``close()`` (safe to call twice). A sink may raise
``StopRequested`` (the pipeline's clean-stop exception, re-exported here) to end the run, as the preview
window does when q or Esc is pressed.
"""

import os
import platform
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

import cv2
import pyvirtualcam
from pyvirtualcam import PixelFormat

from stream.errors import SwapcamError
from stream.lifecycle import OwnedResource
from stream.pipeline import StopRequested
from stream.types import BGRFrame

# how a Linux user creates the virtual camera device pyvirtualcam writes to (also printed by `swapcam doctor`)
LOOPBACK_HINT = "sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label=swapcam"

# The one cv2.cvtColor code turning a BGR frame into each pixel format; None: BGR goes as it is.
# NV12 has no direct conversion in OpenCV and the 4:2:2 ones exist in newer builds only: a format missing
# here is sent as BGR and converted by the backend.
_YUV422 = {PixelFormat.YUYV: "COLOR_BGR2YUV_YUY2", PixelFormat.UYVY: "COLOR_BGR2YUV_UYVY"}
NATIVE_CONVERSIONS: Mapping[PixelFormat, int | None] = MappingProxyType(
    {
        PixelFormat.BGR: None,
        PixelFormat.RGB: cv2.COLOR_BGR2RGB,
        PixelFormat.RGBA: cv2.COLOR_BGR2RGBA,
        PixelFormat.GRAY: cv2.COLOR_BGR2GRAY,
        PixelFormat.I420: cv2.COLOR_BGR2YUV_I420,
        **{fmt: getattr(cv2, name) for fmt, name in _YUV422.items() if hasattr(cv2, name)},
    }
)
SUBSAMPLED = frozenset({PixelFormat.I420, PixelFormat.YUYV, PixelFormat.UYVY})  # need even sizes in OpenCV
FILE_CODECS = MappingProxyType(
    {
        ".mp4": "mp4v",  # MPEG-4 part 2: opencv-python's FFmpeg has no H.264 encoder
        ".mkv": "MJPG",  # every frame stands alone, so a cut-off recording still plays
    }
)
QUIT_KEYS = frozenset({ord("q"), 27})  # q and Esc


class Sink(Protocol):
    def send(self, frame: BGRFrame) -> None: ...

    def describe(self) -> str: ...

    def close(self) -> None: ...

    def __enter__(self) -> "Sink": ...

    def __exit__(self, *exc_info: object) -> None: ...


def _check_frame(frame: BGRFrame, size: tuple[int, int]) -> None:
    expected = (size[1], size[0], 3)
    if frame.shape != expected or frame.dtype != "uint8":
        raise ValueError(f"expected a {expected} uint8 BGR frame, got {frame.shape} {frame.dtype}")


def _check_geometry(size: tuple[int, int], fps: float) -> None:
    if min(size) < 1 or not fps > 0:
        raise ValueError(f"expected a positive size and frame rate, got {size[0]}x{size[1]} at {fps} fps")


def native_conversion(native: PixelFormat | None, size: tuple[int, int]) -> tuple[PixelFormat, int | None]:
    """The format to send in and the cv2 code producing it from BGR: the native one whenever OpenCV can."""
    odd = size[0] % 2 or size[1] % 2
    if native is None or native not in NATIVE_CONVERSIONS or (native in SUBSAMPLED and odd):
        return PixelFormat.BGR, None
    return native, NATIVE_CONVERSIONS[native]


def _open_camera(
    size: tuple[int, int], fps: float, fmt: PixelFormat, device: str | None, backend: str | None
) -> pyvirtualcam.Camera:
    try:
        return pyvirtualcam.Camera(size[0], size[1], fps, fmt=fmt, device=device, backend=backend)
    except RuntimeError as error:  # pyvirtualcam's summary of every backend's failure
        tried = "; ".join(str(error).splitlines()) or "no backend for this system"
        raise SwapcamError(
            f"expected a virtual camera device{f' {device}' if device else ''}, none could be opened "
            f"({tried}). On Linux create one: {LOOPBACK_HINT}; on Windows and macOS install OBS Studio"
        ) from error


class VirtualCameraSink(OwnedResource):
    """A virtual webcam through pyvirtualcam, fed in the backend's native pixel format.

    Frames are converted once, here, with OpenCV, and sent as soon as they are ready: pacing with
    ``sleep_until_next_frame()`` would add up to a frame of latency, and the source already sets the rate.
    """

    def __init__(
        self, width: int, height: int, fps: float, device: str | None = None, backend: str | None = None
    ) -> None:
        self.size = (width, height)
        _check_geometry(self.size, fps)
        if backend is not None and backend not in pyvirtualcam.camera.BACKENDS:
            known = ", ".join(pyvirtualcam.camera.BACKENDS) or "none"
            raise SwapcamError(f"unknown virtual camera backend {backend!r}: this system has {known}")
        camera = _open_camera(self.size, fps, PixelFormat.BGR, device, backend)
        fmt, self._code = native_conversion(camera.native_fmt, self.size)
        if fmt != camera.fmt:
            # Reopened on the same device in its own format, the backend copies frames without converting.
            chosen_device, chosen_backend = camera.device, camera.backend
            camera.close()
            camera = _open_camera(self.size, fps, fmt, chosen_device, chosen_backend)
        self._camera = camera
        self._closed = False

    def send(self, frame: BGRFrame) -> None:
        self._check_open()
        _check_frame(frame, self.size)
        self._camera.send(frame if self._code is None else cv2.cvtColor(frame, self._code))

    def describe(self) -> str:
        camera = self._camera
        return (
            f"virtual camera {camera.device} ({camera.backend} backend, {camera.width}x{camera.height} "
            f"{camera.fmt} at {camera.fps:g} fps)"
        )

    def _release(self) -> None:
        self._camera.close()


def require_display(what: str, instead: str) -> None:
    """Raise a ``SwapcamError`` on Linux without a display: OpenCV's Qt window would abort the process."""
    if platform.system() == "Linux" and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise SwapcamError(
            f"{what} needs a display: expected DISPLAY or WAYLAND_DISPLAY to be set, "
            f"found neither ({instead})"
        )


class PreviewSink(OwnedResource):
    """A window showing the output; q, Esc or closing the window ends the run with ``StopRequested``, and
    every other key goes to ``on_key`` (the live controls, ``stream.controls``).

    HighGUI wants one thread, the main one on macOS: ``send`` (the pipeline's deliver thread) only hands
    the newest frame over, and ``pump`` (the main thread, while it waits for the pipeline) shows it and
    reads the keyboard.
    """

    def __init__(self, title: str = "swapcam", on_key: Callable[[int], None] = lambda code: None) -> None:
        require_display("a preview window", "record with an output file instead")
        self.title, self._on_key = title, on_key
        self._pending: BGRFrame | None = None
        self._lock = threading.Lock()
        self._shown = self._quit = False
        self._closed = False

    def send(self, frame: BGRFrame) -> None:
        self._check_open()
        if self._quit:
            raise StopRequested
        with self._lock:
            self._pending = frame

    def pump(self) -> None:
        """Show the newest frame and read the keyboard; raises ``StopRequested`` on q, Esc or close."""
        self._check_open()
        with self._lock:
            frame, self._pending = self._pending, None
        if frame is not None:
            cv2.imshow(self.title, frame)
            self._shown = True
        if not self._shown:
            return
        key = cv2.waitKey(1)
        if (key & 0xFF) in QUIT_KEYS or cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1:
            self._quit = True
            raise StopRequested
        if key >= 0:
            self._on_key(key & 0xFF)

    def describe(self) -> str:
        return f"preview window {self.title!r} (q or Esc quits, h lists the live keys)"

    def _release(self) -> None:
        if self._shown:
            cv2.destroyWindow(self.title)
            cv2.waitKey(1)  # lets HighGUI process the close


class FileSink(OwnedResource):
    """Records the output to .mp4 (MPEG-4 part 2) or .mkv (Motion JPEG), at the source's frame rate, with
    OpenCV: the fallback where PyAV cannot write H.264 (``stream.encode.EncodedFileSink``).

    Frames go to ``<stem>.partial<suffix>`` beside ``path`` (the suffix stays last: it picks the container),
    renamed to ``path`` on close (replacing an earlier file of that name). A killed run leaves the partial
    file and never a broken file under the final name; a run that sent no frame leaves no file.
    """

    def __init__(self, path: Path, fps: float, size: tuple[int, int]) -> None:
        if path.suffix.lower() not in FILE_CODECS:
            kinds = " or ".join(FILE_CODECS)
            raise SwapcamError(f"{path}: expected an output file ending in {kinds}, got '{path.suffix}'")
        _check_geometry(size, fps)
        self.path, self.fps, self.size = path, fps, size
        self.frames = 0
        self._partial = path.with_name(f"{path.stem}.partial{path.suffix}")
        codec = FILE_CODECS[path.suffix.lower()]
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SwapcamError(f"cannot create the folder of {path}: {error.strerror}") from error
        self._writer = cv2.VideoWriter(str(self._partial), cv2.VideoWriter.fourcc(*codec), fps, size)
        if not self._writer.isOpened():
            self._writer.release()
            self._partial.unlink(missing_ok=True)
            raise SwapcamError(
                f"cannot write {path}: OpenCV did not open a {codec} writer for {self._partial}"
            )
        self._closed = False

    def send(self, frame: BGRFrame) -> None:
        self._check_open()
        _check_frame(frame, self.size)
        self._writer.write(frame)
        self.frames += 1

    def describe(self) -> str:
        codec = FILE_CODECS[self.path.suffix.lower()]
        return f"file {self.path} ({codec}, {self.size[0]}x{self.size[1]} at {self.fps:g} fps)"

    def _release(self) -> None:
        self._writer.release()
        if self.frames:
            os.replace(self._partial, self.path)
        else:
            self._partial.unlink(missing_ok=True)


class ImageFileSink(OwnedResource):
    """Writes the one frame of a picture's swap to an image file (its suffix picks the format), through
    ``<stem>.partial<suffix>`` renamed on close like ``FileSink``. A second frame is an error: a video
    belongs in a video file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.frames = 0
        self._partial = path.with_name(f"{path.stem}.partial{path.suffix}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SwapcamError(f"cannot create the folder of {path}: {error.strerror}") from error
        self._closed = False

    def send(self, frame: BGRFrame) -> None:
        self._check_open()
        if self.frames:
            raise SwapcamError(f"{self.path} is an image: it holds one frame, and a second one came")
        if not cv2.imwrite(str(self._partial), frame):
            raise SwapcamError(f"cannot write {self.path}: OpenCV cannot encode '{self.path.suffix}' images")
        self.frames += 1

    def describe(self) -> str:
        return f"image {self.path}"

    def _release(self) -> None:
        if self.frames:
            os.replace(self._partial, self.path)
        else:
            self._partial.unlink(missing_ok=True)


class FrameFolderSink(OwnedResource):
    """Writes frames losslessly as ``NNNNNN.png`` (N: the frame's number from 0 in the order sent) into a
    folder that exists: for measuring output without video compression in the way. ``every``: only every
    N-th frame is written (numbers 0, N, 2N, …), for a judge that reads no others."""

    def __init__(self, folder: Path, every: int = 1) -> None:
        if not folder.is_dir():
            raise SwapcamError(f"expected an existing folder for the frames, got {folder}")
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        self.folder, self.every = folder, every
        self.frames = 0
        self._closed = False

    def send(self, frame: BGRFrame) -> None:
        self._check_open()
        path = self.folder / f"{self.frames:06d}.png"
        if self.frames % self.every == 0 and not cv2.imwrite(str(path), frame):
            raise SwapcamError(f"cannot write {path}")
        self.frames += 1

    def describe(self) -> str:
        return f"PNG frames in {self.folder}"

    def _release(self) -> None:
        pass


class NullSink(OwnedResource):
    """Keeps nothing, counts frames: for runs that only measure."""

    def __init__(self) -> None:
        self.frames = 0
        self._closed = False

    def send(self, frame: BGRFrame) -> None:
        self._check_open()
        self.frames += 1

    def describe(self) -> str:
        return "no output (frames are counted, then dropped)"

    def _release(self) -> None:
        pass
