"""Finding images and videos on disk and reading their frames (offline jobs: extract, training data)."""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from stream.errors import SwapcamError
from stream.types import BGRFrame

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"})
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"})

Kind = Literal["video", "image", "unknown"]


@dataclass(frozen=True)
class MediaFile:
    path: Path  # absolute
    kind: Kind


class UnreadableMedia(SwapcamError):
    """A file that OpenCV cannot decode as the image or video its name promises."""


def read_frame(capture: cv2.VideoCapture) -> BGRFrame | None:
    """The next frame ``capture`` decodes (8-bit BGR, as VideoCapture gives it); None when there is none."""
    ok, frame = capture.read()
    return np.asarray(frame, np.uint8) if ok else None


def media_kind(path: Path) -> Kind:
    suffix = path.suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return "video"
    return "image" if suffix in IMAGE_SUFFIXES else "unknown"


def collect_media(paths: Sequence[Path]) -> list[MediaFile]:
    """Expand files and folders (recursively, sorted) into media files, in argument order.

    Files named explicitly are kept whatever their suffix (an unknown one is reported by the caller);
    inside folders only image and video suffixes count. A missing path or a folder without media is an error.
    """
    found: list[MediaFile] = []
    for given in paths:
        path = Path(given).expanduser().absolute()
        if path.is_dir():
            inside = [MediaFile(p, media_kind(p)) for p in sorted(path.rglob("*")) if p.is_file()]
            inside = [media for media in inside if media.kind != "unknown"]
            if not inside:
                raise SwapcamError(f"folder {path} holds no images or videos (looked for {_suffix_list()})")
            found.extend(inside)
        elif path.is_file():
            found.append(MediaFile(path, media_kind(path)))
        else:
            raise SwapcamError(f"no such file or folder: {path}")
    return found


def _suffix_list() -> str:
    return " ".join(sorted(VIDEO_SUFFIXES | IMAGE_SUFFIXES))


def video_frame_count(path: Path) -> int:
    """Frame count from the container (may be approximate, 0 if unknown)."""
    capture = cv2.VideoCapture(str(path))
    try:
        return max(int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
    finally:
        capture.release()


def short_read(path: Path, read: int, announced: int | None) -> str | None:
    """The note for a video that ended after ``read`` of the ``announced`` frames its container counts;
    None when it read them all (or one fewer: some containers count one too many) or announces none."""
    if not announced or read >= announced - 1:
        return None
    return (
        f"{path} ended after {read} of the {announced} frames its container announces: truncated or damaged"
    )


def read_video(
    path: Path, every: int = 1, on_short: Callable[[str], None] | None = None
) -> Iterator[tuple[int, BGRFrame]]:
    """Yield (frame index, frame) for every ``every``-th frame; frames in between are skipped undecoded.
    ``on_short`` hears ``short_read``'s note when the video ends before its announced length."""
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise UnreadableMedia(f"{path}: OpenCV cannot open it as a video")
        index = 0
        while True:
            if index % every:
                if not capture.grab():
                    break
            else:
                frame = read_frame(capture)
                if frame is None:
                    break
                yield index, frame
            index += 1
        if index == 0:
            raise UnreadableMedia(f"{path}: no frame could be decoded")
        note = short_read(path, index, int(capture.get(cv2.CAP_PROP_FRAME_COUNT)))
        if note is not None and on_short is not None:
            on_short(note)
    finally:
        capture.release()


def read_image(path: Path) -> BGRFrame:
    frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if frame is None:
        raise UnreadableMedia(f"{path}: OpenCV cannot decode it as an image")
    return np.asarray(frame, np.uint8)  # IMREAD_COLOR: 8-bit BGR
