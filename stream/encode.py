"""Video files every browser and player opens: H.264 in .mp4 (or .mkv), with the source's sound.

PyAV (``av`` on PyPI) encodes in-process with the FFmpeg its wheels ship, libx264 included, so no FFmpeg
install is needed and frames never pass through a pipe. Sound is copied packet by packet from the source
file (no re-encoding) when the container takes its codec, else re-encoded to AAC; it is muxed in step with
the video, so the file interleaves both and plays while it downloads (``+faststart`` puts the index first).
``stream.sinks.FileSink`` (OpenCV, MPEG-4 part 2, no sound) remains the fallback where PyAV or its
encoder is missing.
"""

import os
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import av.error
import cv2
import numpy as np

from stream.errors import SwapcamError
from stream.lifecycle import OwnedResource
from stream.types import BGRFrame

VIDEO_CODEC = "libx264"
CONTAINERS = (".mp4", ".mkv")
# Sound codecs an .mp4 holds and browsers play; others (an .avi's PCM, say) are re-encoded to AAC.
MP4_AUDIO = frozenset({"aac", "mp3", "mp3float", "opus", "flac", "alac"})
ENCODER_OPTIONS = {
    "crf": "20",
    "preset": "superfast",
}  # 5 ms a 640x360 frame on one core, half ultrafast's size
MAX_RATE_DENOMINATOR = 1001  # 29.97 fps is 30000/1001


def encoder_available() -> bool:
    """Whether PyAV's FFmpeg has the H.264 encoder this module writes with."""
    try:
        av.codec.Codec(VIDEO_CODEC, "w")
    except (av.error.FFmpegError, ValueError):
        return False
    return True


def frame_rate(fps: float) -> Fraction:
    """``fps`` as the exact fraction containers store: 29.97 → 30000/1001, 25.0 → 25."""
    return Fraction(fps).limit_denominator(MAX_RATE_DENOMINATOR)


def even_frame(frame: BGRFrame) -> BGRFrame:
    """``frame`` grown to an even width and height by repeating its last column or row: 4:2:0 video, the
    only kind browsers play, stores colour for 2 x 2 pixel blocks."""
    height, width = frame.shape[:2]
    if height % 2 == 0 and width % 2 == 0:
        return frame
    return np.asarray(cv2.copyMakeBorder(frame, 0, height % 2, 0, width % 2, cv2.BORDER_REPLICATE), np.uint8)


class EncodedFileSink(OwnedResource):
    """Records the output as H.264 at the source's frame rate, with ``audio_from``'s sound when it has any.

    Frames go to ``<stem>.partial<suffix>`` beside ``path`` and are renamed to ``path`` on close, as
    ``FileSink`` does: a killed run never leaves a broken file under the final name, and a run that sent
    no frame leaves no file. Every frame counts 1 / fps of time, so the sound stays in step for a file read
    whole; a camera's dropped frames shorten the video, and sound past its end is left out.
    """

    def __init__(self, path: Path, fps: float, size: tuple[int, int], audio_from: Path | None = None) -> None:
        if path.suffix.lower() not in CONTAINERS:
            raise SwapcamError(f"{path}: expected an output file ending in {' or '.join(CONTAINERS)}")
        if min(size) < 1 or not fps > 0:
            raise ValueError(f"expected a positive size and frame rate, got {size[0]}x{size[1]} at {fps} fps")
        self.path, self.fps, self.size = path, fps, size
        self.frames = 0
        self._partial = path.with_name(f"{path.stem}.partial{path.suffix}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            mp4 = path.suffix.lower() == ".mp4"
            self._container = av.open(
                str(self._partial), "w", options={"movflags": "+faststart"} if mp4 else {}
            )
        except (OSError, av.error.FFmpegError) as error:
            raise SwapcamError(f"cannot write {path}: {error}") from error
        self._sound: _Sound | None = None
        try:
            self._video = _video_stream(self._container, fps)
            self._video.width, self._video.height = size[0] + size[0] % 2, size[1] + size[1] % 2
            self._video.pix_fmt = "yuv420p"
            self._video.codec_context.thread_count = 1  # the pipeline's threads already use every core
            self._sound = _Sound.open(audio_from, self._container) if audio_from is not None else None
        except BaseException:
            self._container.close()
            self._partial.unlink(missing_ok=True)
            raise
        self._closed = False

    def send(self, frame: BGRFrame) -> None:
        self._check_open()
        if frame.shape != (self.size[1], self.size[0], 3) or frame.dtype != np.uint8:
            raise ValueError(
                f"expected a {(self.size[1], self.size[0], 3)} uint8 BGR frame, got {frame.shape}"
            )
        picture = av.VideoFrame.from_ndarray(even_frame(frame), format="bgr24")
        picture.pts = self.frames
        if self._sound is not None:
            self._sound.mux_until(Fraction(self.frames + 1) / frame_rate(self.fps))
        self._container.mux(self._video.encode(picture))
        self.frames += 1

    @property
    def sound(self) -> str:
        """What happens to the source's sound: copied, re-encoded, or none."""
        return self._sound.describe() if self._sound is not None else "no sound"

    def describe(self) -> str:
        width, height = self.size
        return f"file {self.path} (H.264, {width}x{height} at {self.fps:g} fps, {self.sound})"

    def _release(self) -> None:
        try:
            if self.frames:
                self._container.mux(self._video.encode(None))  # what the encoder still holds
                if self._sound is not None:
                    self._sound.mux_until(Fraction(self.frames) / frame_rate(self.fps))  # the rest is cut
        finally:
            if self._sound is not None:
                self._sound.close()
            self._container.close()
        if self.frames:
            os.replace(self._partial, self.path)
        else:
            self._partial.unlink(missing_ok=True)


def _video_stream(container: "av.container.OutputContainer", fps: float) -> av.VideoStream:
    stream = container.add_stream(VIDEO_CODEC, rate=frame_rate(fps), options=ENCODER_OPTIONS)
    if not isinstance(stream, av.VideoStream):  # what add_stream gives for a video codec
        raise TypeError(f"{VIDEO_CODEC} gave a {type(stream).__name__}, not a video stream")
    return stream


class _Sound(OwnedResource):
    """The first sound stream of a source file, copied (or re-encoded to AAC) into an output container."""

    def __init__(self, source: "av.container.InputContainer", output: "av.container.OutputContainer") -> None:
        self._source, self._container = source, output
        self._input = source.streams.audio[0]
        self._codec = self._input.codec_context.name
        self.copied = self._codec in MP4_AUDIO or output.format.name == "matroska"
        if self.copied:
            self._output = output.add_stream_from_template(self._input)
            self._packets: Iterator[av.Packet] = source.demux(self._input)
        else:
            self._output = output.add_stream("aac", rate=self._input.codec_context.sample_rate)
            self._packets = self._encoded()
        self._pending: av.Packet | None = None
        self._closed = False

    @classmethod
    def open(cls, path: Path, output: "av.container.OutputContainer") -> "_Sound | None":
        """The sound of ``path``, or None when it has none (or PyAV cannot read it)."""
        try:
            source = av.open(str(path))
        except (OSError, av.error.FFmpegError):
            return None
        if not source.streams.audio:
            source.close()
            return None
        try:
            return cls(source, output)
        except BaseException:
            source.close()
            raise

    def _encoded(self) -> Iterator[av.Packet]:
        for frame in self._source.decode(self._input):
            yield from self._output.encode(frame)
        yield from self._output.encode(None)

    def mux_until(self, end: Fraction) -> None:
        """Mux every sound packet that starts before ``end`` seconds."""
        while True:
            packet = self._pending or next(self._packets, None)
            self._pending = None
            if packet is None:
                return
            if not packet.size:  # the demuxer's empty end-of-stream packet
                continue
            if (
                packet.pts is not None
                and packet.time_base is not None
                and packet.pts * packet.time_base >= end
            ):
                self._pending = packet
                return
            packet.stream = self._output
            self._container.mux(packet)

    def describe(self) -> str:
        return f"sound ({self._codec}) copied" if self.copied else f"sound ({self._codec}) re-encoded to AAC"

    def _release(self) -> None:
        self._source.close()
