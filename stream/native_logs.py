"""Keep the native libraries' chatter off the terminal: MediaPipe's absl lines (``W0000 … calculator.cc``),
TensorFlow Lite's ``INFO:`` lines, OpenCV's ``[ WARN:…]`` and FFmpeg's ``[tcp @ 0x…]`` lines.

Where a library has a log-level setting it is used (``quiet_environment``: OpenCV's, before it loads).
MediaPipe and TensorFlow Lite write from C++ with no setting Python can reach, so ``NativeLogFilter``
catches file descriptor 2 itself: Python's own ``sys.stderr`` keeps the real terminal, and a thread reads
what native code writes to descriptor 2 and passes on every line that is not known chatter (errors and
anything unrecognised). ``swapcam … --verbose`` leaves everything as it is.
"""

import io
import os
import re
import sys
import threading
from collections.abc import MutableMapping
from typing import TextIO

from stream.lifecycle import OwnedResource

# absl/glog INFO and WARNING (E and F, errors and fatal, pass); TensorFlow Lite's INFO; absl's notice
# that it logs to stderr; OpenCV below ERROR; FFmpeg's "[component @ 0x...]" lines, which swapcam's own
# errors replace (an unreachable stream URL, say).
CHATTER = re.compile(
    r"^(?:[IW]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\]"
    r"|INFO: "
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|\[ (?:WARN|INFO|DEBUG):"
    r"|\[[\w-]+ @ 0x[0-9a-f]+\] )"
)
QUIET_ENVIRONMENT = {"OPENCV_LOG_LEVEL": "ERROR", "OPENCV_FFMPEG_LOGLEVEL": "-8", "GLOG_minloglevel": "2"}
JOIN_SECONDS = 2.0  # a child process that still holds descriptor 2 must not keep the command waiting


def is_chatter(line: str) -> bool:
    """Whether a native log line is routine (dropped unless --verbose) rather than an error."""
    return CHATTER.match(line) is not None


def quiet_environment(environment: MutableMapping[str, str] | None = None) -> None:
    """Set the log levels that native libraries read from the environment when they load, unless the user
    set them."""
    target = os.environ if environment is None else environment
    for name, value in QUIET_ENVIRONMENT.items():
        target.setdefault(name, value)


class NativeLogFilter(OwnedResource):
    """While open, what native code writes to descriptor 2 passes through ``is_chatter``; Python's
    ``sys.stderr``, when it is that descriptor, is pointed at a copy of the real one so swapcam's own lines
    and progress bars arrive at once and unfiltered. Closing restores both."""

    def __init__(self) -> None:
        sys.stderr.flush()
        self._terminal = os.dup(2)
        read_end, write_end = os.pipe()
        os.dup2(write_end, 2)
        os.close(write_end)
        self._python_stderr: TextIO | None = None
        if _writes_to_descriptor_2(sys.stderr):
            self._python_stderr = sys.stderr
            sys.stderr = io.TextIOWrapper(
                open(os.dup(self._terminal), "wb", buffering=0),  # noqa: SIM115 - closed in _release
                encoding=sys.stderr.encoding,
                errors="backslashreplace",
                line_buffering=True,
            )
        self._reader = threading.Thread(
            target=_forward, args=(read_end, self._terminal), name="native-log-filter", daemon=True
        )
        self._reader.start()
        self._closed = False

    def _release(self) -> None:
        if self._python_stderr is not None:
            sys.stderr.flush()
            replacement, sys.stderr = sys.stderr, self._python_stderr
            replacement.close()
        os.dup2(self._terminal, 2)  # closes the pipe's last write end here: the reader sees its end
        self._reader.join(JOIN_SECONDS)
        if not self._reader.is_alive():
            os.close(self._terminal)


def _writes_to_descriptor_2(stream: TextIO) -> bool:
    try:
        return stream.fileno() == 2
    except (AttributeError, OSError, ValueError):  # a capture object or a closed stream: leave it be
        return False


def _forward(read_end: int, terminal: int) -> None:
    """Copy whole lines from ``read_end`` to ``terminal``, leaving out chatter, until the pipe closes."""
    pending = b""
    with open(read_end, "rb", buffering=0) as pipe:
        while chunk := pipe.read(65536):
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                if not is_chatter(line.decode(errors="replace")):
                    os.write(terminal, line + b"\n")
    if pending and not is_chatter(pending.decode(errors="replace")):
        os.write(terminal, pending)
