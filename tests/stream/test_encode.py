"""H.264 output with the source's sound (stream.encode), read back with PyAV; and, where Chromium is
installed, played by a real browser."""

import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from stream.encode import EncodedFileSink, even_frame, frame_rate
from stream.errors import SwapcamError
from tests.conftest import read_frames


def streams(path: Path) -> dict[str, tuple[str, float, int]]:
    """type → (codec, seconds, frames) of each stream of ``path``"""
    with av.open(str(path)) as container:
        return {
            stream.type: (stream.codec_context.name, seconds(stream), stream.frames)
            for stream in container.streams
        }


def seconds(stream: av.stream.Stream) -> float:
    assert stream.duration is not None and stream.time_base is not None, f"{stream.type}: no duration"
    return float(stream.duration * stream.time_base)


def write_clip(path: Path, source: Path, frames: list[np.ndarray], fps: float) -> EncodedFileSink:
    height, width = frames[0].shape[:2]
    with EncodedFileSink(path, fps, (width, height), audio_from=source) as sink:
        for frame in frames:
            sink.send(frame)
    return sink


def test_the_mans_clip_keeps_its_sound_copied_and_its_length(sample_paths, tmp_path):
    source = sample_paths["man"]
    frames = read_frames(source, list(range(72)))
    sink = write_clip(tmp_path / "out.mp4", source, frames, 30.0)
    assert sink.sound == "sound (mp3float) copied"
    found, original = streams(tmp_path / "out.mp4"), streams(source)
    assert found["video"][0] == "h264" and found["video"][2] == 72
    assert found["audio"][0] == original["audio"][0] and found["audio"][2] == original["audio"][2]
    assert abs(found["audio"][1] - found["video"][1]) < 0.1
    with av.open(str(tmp_path / "out.mp4")) as container:
        assert container.streams.video[0].codec_context.pix_fmt == "yuv420p"  # what browsers decode
        decoded = next(container.decode(video=0)).to_ndarray(format="bgr24")
    assert np.abs(decoded.astype(int) - frames[0]).mean() < 3  # crf 20: close to the frame sent
    data = (tmp_path / "out.mp4").read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # +faststart: plays while it downloads


def test_sound_an_mp4_cannot_hold_is_reencoded_to_aac_and_cut_at_the_videos_end(tmp_path):
    source = tmp_path / "pcm.mkv"
    with av.open(str(source), "w") as container:  # 2 s of 16-bit PCM, a codec .mp4 does not take
        stream = container.add_stream("pcm_s16le", rate=16000, layout="mono")
        tone = (np.sin(np.arange(32000) / 5) * 8000).astype(np.int16)[None]
        frame = av.AudioFrame.from_ndarray(tone, format="s16", layout="mono")
        frame.sample_rate, frame.pts = 16000, 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    frames = [np.full((48, 64, 3), 40 * k % 255, np.uint8) for k in range(25)]  # 1 s at 25 fps
    sink = write_clip(tmp_path / "out.mp4", source, frames, 25.0)
    assert sink.sound == "sound (pcm_s16le) re-encoded to AAC"
    found = streams(tmp_path / "out.mp4")
    assert found["audio"][0] == "aac" and 0.9 < found["audio"][1] < 1.15


def test_a_source_without_sound_gives_video_alone_and_no_frames_give_no_file(tmp_path):
    frames = [np.zeros((48, 64, 3), np.uint8)] * 3
    image = tmp_path / "still.png"
    image.write_bytes(b"not even an image")
    assert write_clip(tmp_path / "out.mkv", image, frames, 25.0).sound == "no sound"
    assert set(streams(tmp_path / "out.mkv")) == {"video"}
    EncodedFileSink(tmp_path / "empty.mp4", 25.0, (64, 48)).close()
    assert not list(tmp_path.glob("empty*"))


def test_odd_sizes_grow_by_a_repeated_edge_and_rates_are_exact_fractions():
    frame = np.arange(5 * 3 * 3, dtype=np.uint8).reshape(5, 3, 3)
    grown = even_frame(frame)
    assert grown.shape == (6, 4, 3)
    np.testing.assert_array_equal(grown[:5, :3], frame)
    np.testing.assert_array_equal(grown[5, :3], frame[4])
    assert frame_rate(29.97002997) == Fraction(30000, 1001) and frame_rate(25.0) == 25


def test_wrong_suffixes_and_frames_are_refused(tmp_path):
    with pytest.raises(SwapcamError, match=r"ending in \.mp4 or \.mkv"):
        EncodedFileSink(tmp_path / "out.avi", 25.0, (64, 48))
    with (
        EncodedFileSink(tmp_path / "out.mp4", 25.0, (64, 48)) as sink,
        pytest.raises(ValueError, match="48, 64"),
    ):
        sink.send(np.zeros((64, 48, 3), np.uint8))


PAGE = """<html><body><video id="v" src="{name}" muted preload="auto"></video><pre id="s"></pre><script>
const v = document.getElementById('v');
v.addEventListener('loadeddata', () => {{ document.getElementById('s').textContent =
  'state ' + v.readyState + ' size ' + v.videoWidth + 'x' + v.videoHeight; }});
v.addEventListener('error', () => {{ document.getElementById('s').textContent = 'error ' + v.error.code; }});
</script></body></html>"""


@pytest.mark.skipif(shutil.which("chromium") is None, reason="no chromium on PATH (apt install chromium)")
def test_chromium_plays_the_file(sample_paths, tmp_path):
    source = sample_paths["man"]
    write_clip(tmp_path / "out.mp4", source, read_frames(source, list(range(30))), 30.0)
    (tmp_path / "page.html").write_text(PAGE.format(name="out.mp4"))
    browser = [shutil.which("chromium"), "--headless", "--no-sandbox", "--disable-gpu"]
    page = (tmp_path / "page.html").as_uri()
    shown = subprocess.run(
        [*browser, "--virtual-time-budget=10000", "--dump-dom", page],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "size 640x360" in shown.stdout, shown.stdout[-500:]
    state = int(shown.stdout.split("state ")[1].split()[0])
    assert state >= 2  # HAVE_CURRENT_DATA: a decoded frame to show
