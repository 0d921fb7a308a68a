import platform
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from bench.counter_pattern import (
    CELLS,
    counter_cells,
    decode_counter,
    encode_counter,
    gray_decode,
    gray_encode,
    value_of_cells,
)
from bench.glass import GlassSink, PatternWindow, format_glass, run_glass
from stream.errors import SwapcamError
from stream.pipeline import StopRequested
from stream.types import BGRFrame

VALUES = sorted({0, 1, 2, 255, 256, 4095, 32767, 32768, 43690, 65534, 65535, *range(1000, 65535, 2111)})
SIZE = (640, 360)


def rotate(frame: BGRFrame, degrees: float) -> BGRFrame:
    height, width = frame.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return np.asarray(
        cv2.warpAffine(frame, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE), np.uint8
    )


def jpeg(frame: BGRFrame, quality: int = 60) -> BGRFrame:
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR), np.uint8)


def noisy(frame: BGRFrame, sigma: float = 8.0) -> BGRFrame:
    # seeded by the frame: each frame its own noise, the same in every run
    noise = np.random.default_rng(int(frame.sum())).normal(0, sigma, frame.shape)
    return np.clip(frame + noise, 0, 255).astype(np.uint8)


def dimmed(frame: BGRFrame) -> BGRFrame:
    return np.clip(frame * 0.6 + 20, 0, 255).astype(np.uint8)


def smaller(frame: BGRFrame) -> BGRFrame:
    return np.asarray(cv2.resize(frame, (320, 180), interpolation=cv2.INTER_AREA), np.uint8)


def blurred(frame: BGRFrame, sigma: float = 2.0) -> BGRFrame:
    return np.asarray(cv2.GaussianBlur(frame, (0, 0), sigma), np.uint8)


DEGRADATIONS: dict[str, Callable[[BGRFrame], BGRFrame]] = {
    "scaled to 320x180": smaller,
    "gaussian blur sigma 2": blurred,
    "brightness x0.6 + 20": dimmed,
    "noise sigma 8": noisy,
    "rotated 3 degrees": lambda frame: rotate(frame, 3),
    "rotated -3 degrees": lambda frame: rotate(frame, -3),
    "jpeg quality 60": jpeg,
    "mirrored": lambda frame: frame[:, ::-1].copy(),
    "upside down": lambda frame: frame[::-1, ::-1].copy(),
    "all at once": lambda frame: jpeg(noisy(dimmed(rotate(blurred(frame), 3)))),
    "all at once at 320x180": lambda frame: jpeg(noisy(dimmed(rotate(blurred(smaller(frame)), 3)))),
    "blur sigma 3 at 320x180": lambda frame: blurred(smaller(frame), 3),
    "all at once at 320x180, rotated 8 degrees": lambda frame: jpeg(
        noisy(dimmed(rotate(blurred(smaller(frame)), 8)))
    ),
}


def popcount(value: int) -> int:
    return bin(value).count("1")


def test_gray_code_matches_the_reflected_binary_code_and_round_trips():
    assert [gray_encode(value) for value in range(8)] == [0, 1, 3, 2, 6, 7, 5, 4]
    for value in range(0, 1 << 16, 3):
        code = gray_encode(value)
        assert gray_decode(code) == value
        assert popcount(code ^ gray_encode(value + 1)) == 1


def test_neighbouring_counters_differ_in_one_data_cell_and_the_parity_cell():
    for value in VALUES:  # 65535 → 0 too: the counter wraps
        before, after = counter_cells(value), counter_cells((value + 1) % (1 << 16))
        changed = [index for index in range(CELLS) if before[index] != after[index]]
        assert len(changed) == 2 and changed[-1] == CELLS - 3  # the parity cell sits before the end marker


def test_cells_read_back_in_either_direction_and_a_flipped_cell_is_refused():
    for value in VALUES:
        cells = counter_cells(value)
        assert value_of_cells(cells) == value
        assert value_of_cells(cells[::-1]) == value
        for index in range(CELLS):
            flipped = (*cells[:index], 1 - cells[index], *cells[index + 1 :])
            assert value_of_cells(flipped) is None


@pytest.mark.parametrize("value", [-1, 1 << 16])
def test_counter_values_outside_16_bits_are_rejected(value):
    with pytest.raises(ValueError, match=r"expected a counter value in 0\.\.65535"):
        encode_counter(value, SIZE)


def test_pages_too_small_for_the_bar_are_rejected():
    with pytest.raises(ValueError, match="expected a page of at least"):
        encode_counter(5, (40, 30))


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720), (640, 480), (640, 360), (320, 180)])
def test_clean_pages_decode_exactly(size):
    for value in VALUES:
        page = encode_counter(value, size)
        assert page.shape == (size[1], size[0], 3) and page.dtype == np.uint8
        assert decode_counter(page) == value


@pytest.mark.parametrize("name", list(DEGRADATIONS))
def test_pages_decode_after_what_a_camera_does_to_them(name):
    degrade = DEGRADATIONS[name]
    assert [decode_counter(degrade(encode_counter(value, SIZE))) for value in VALUES] == VALUES


def place(page: BGRFrame, background: BGRFrame, corners: list[list[float]]) -> BGRFrame:
    """``page`` seen in perspective inside ``background``, its corners (tl, tr, br, bl) where given."""
    height, width = page.shape[:2]
    source = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    matrix = cv2.getPerspectiveTransform(source, np.array(corners, np.float32))
    size = (background.shape[1], background.shape[0])
    inside = cv2.warpPerspective(np.full((height, width), 255, np.uint8), matrix, size) > 0
    framed = background.copy()
    framed[inside] = cv2.warpPerspective(page, matrix, size)[inside]
    return framed


def test_a_page_filling_part_of_a_real_frame_in_perspective_decodes(woman_frames):
    corners = [[230, 70], [590, 95], [575, 300], [240, 285]]
    for value, frame in zip(VALUES, woman_frames, strict=False):
        seen = cv2.GaussianBlur(place(encode_counter(value, (1280, 720)), frame, corners), (0, 0), 1.2)
        assert decode_counter(seen) == value


def test_large_dark_regions_at_the_frame_edge_do_not_hide_the_bar():
    frame = np.full((360, 640, 3), 200, np.uint8)
    for x0, y0 in ((0, 0), (440, 0), (0, 260), (440, 260)):  # each larger than the bar, like a dark room
        frame[y0 : y0 + 100, x0 : x0 + 200] = 20
    frame[110:250, 170:470] = cv2.resize(encode_counter(4321, SIZE), (300, 140), interpolation=cv2.INTER_AREA)
    assert decode_counter(frame) == 4321


def test_frames_without_the_pattern_decode_to_none(woman_frames, man_frames):
    rng = np.random.default_rng(3)
    grey = [np.full((360, 640, 3), level, np.uint8) for level in (0, 128, 255)]
    noise = [rng.integers(0, 256, (360, 640, 3), dtype=np.uint8) for _ in range(5)]
    blocks = [
        cv2.resize(rng.integers(0, 256, (9, 16, 3), dtype=np.uint8), SIZE, interpolation=cv2.INTER_NEAREST)
        for _ in range(20)
    ]
    for frame in [*grey, *noise, *blocks, *woman_frames, *man_frames]:
        assert decode_counter(frame) is None


def test_lines_and_shapes_that_are_not_four_sided_decode_to_none_without_warnings():
    frame = np.full((360, 640, 3), 255, np.uint8)
    cv2.line(frame, (50, 40), (400, 40), (0, 0, 0), 1)
    cv2.line(frame, (50, 80), (400, 300), (0, 0, 0), 1)
    cv2.line(frame, (450, 60), (600, 60), (0, 0, 0), 1)
    cv2.line(frame, (600, 60), (600, 300), (0, 0, 0), 1)
    cv2.fillPoly(frame, [np.int32([[420, 320], [620, 320], [520, 200]])], (0, 0, 0))
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        assert decode_counter(frame) is None


def test_a_damaged_or_cut_off_bar_decodes_to_none():
    page = encode_counter(12345, SIZE)
    start_marker = page.copy()
    start_marker[:, : SIZE[0] // 6] = 255 - start_marker[:, : SIZE[0] // 6]
    assert decode_counter(start_marker) is None
    assert decode_counter(page[:, 60:]) is None  # the bar runs off the frame's edge


def test_a_cell_halfway_between_dark_and_lit_makes_the_frame_unreadable():
    for value in VALUES:
        page = encode_counter(value, SIZE)
        page[150:210, 300:315] = 128  # the middle of one data cell
        assert decode_counter(page) is None


def test_a_bar_washed_out_below_40_grey_levels_is_not_read():
    page = encode_counter(777, SIZE).astype(np.float64)
    assert decode_counter((page * 60 / 255 + 100).astype(np.uint8)) == 777
    assert decode_counter((page * 30 / 255 + 100).astype(np.uint8)) is None


def test_two_values_caught_in_one_exposure_read_as_one_of_them_or_none():
    outcomes = set()
    for value in VALUES[:-1]:
        before, after = encode_counter(value, SIZE), encode_counter(value + 1, SIZE)
        for share in np.linspace(0, 1, 11):
            blended = cv2.addWeighted(before, share, after, 1 - share, 0)
            rolled = np.concatenate([before[: 120 + int(share * 120)], after[120 + int(share * 120) :]])
            for frame in (blended, rolled):
                decoded = decode_counter(frame)
                assert decoded in (None, value, value + 1)
                outcomes.add("none" if decoded is None else "read")
    assert outcomes == {"none", "read"}


class ListClock:
    def __init__(self, times: list[float]) -> None:
        self._times = iter(times)

    def __call__(self) -> float:
        return next(self._times)


def test_the_sink_measures_from_when_each_value_was_shown_to_when_its_frame_arrived():
    shown = {10: 1.000, 11: 1.016, 12: 1.033, 13: 2.000}
    arrivals = [1.100, 1.120, 1.153, 1.160, 1.170, 1.180]
    frames = [encode_counter(value, SIZE) for value in (10, 11, 12)]
    frames += [np.full((360, 640, 3), 128, np.uint8), encode_counter(99, SIZE), encode_counter(13, SIZE)]
    with GlassSink(shown.get, clock=ListClock(arrivals)) as sink:
        for frame in frames:
            sink.send(frame)
    figures = sink.figures()
    assert sink.latencies_ms == pytest.approx([100.0, 104.0, 120.0])
    assert figures.frames == 6 and figures.read == 3
    assert figures.unreadable == 1  # the grey frame
    assert figures.implausible == 2  # 99 was never shown; 13 was shown after its frame arrived
    assert figures.latency.to_json() == pytest.approx(
        {"p50": 104.0, "p95": 118.4, "p99": 119.68, "max": 120.0, "mean": 108.0}
    )
    assert "p50 104.0 ms" in format_glass(figures) and "3 of 6 frames read" in format_glass(figures)


def test_the_sink_leaves_out_the_warm_up_and_stops_when_asked():
    shown = {value: 0.5 + value / 100 for value in range(10)}
    arrivals = [1.0, 1.2, 1.4, 1.6, 1.8]
    sink = GlassSink(shown.get, clock=ListClock(arrivals), warmup_s=0.5)
    for value in range(5):
        sink.send(encode_counter(value, SIZE))
    assert sink.first_arrival == 1.0
    assert sink.latencies_ms == pytest.approx([1070.0, 1260.0])  # 1.6 - 0.53 and 1.8 - 0.54
    sink.request_stop()
    with pytest.raises(StopRequested):
        sink.send(encode_counter(5, SIZE))
    sink.close()
    sink.close()
    with pytest.raises(RuntimeError, match="GlassSink is closed"):
        sink.send(encode_counter(6, SIZE))


def test_a_run_with_nothing_read_says_where_to_look():
    with GlassSink({}.get, clock=ListClock([1.0])) as sink:
        sink.send(np.zeros((360, 640, 3), np.uint8))
    assert "no frame read" in format_glass(sink.figures())


class FakeScreen:
    """Stands in for ``PatternWindow``: draws nothing, keeps the times; quits after ``quit_after`` draws."""

    def __init__(self, quit_after: int | None = None) -> None:
        self.value, self._quit_after = -1, quit_after
        self.statuses: list[str] = []
        self._shown: dict[int, float] = {}

    def show_next(self, status: str) -> bool:
        self.value += 1
        self._shown[self.value] = time.monotonic()
        self.statuses.append(status)
        return self._quit_after is None or self.value + 1 < self._quit_after

    def shown_at(self, value: int) -> float | None:
        return self._shown.get(value)

    def __enter__(self) -> "FakeScreen":
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass


class FilmingCamera:
    """A live source filming the fake screen at 30 fps, without delay or distortion."""

    fps, size, live, frame_count = 30.0, SIZE, True, None

    def __init__(self, screen: FakeScreen) -> None:
        self._screen = screen

    def read(self) -> BGRFrame:
        time.sleep(1 / self.fps)
        return encode_counter(max(self._screen.value, 0) % (1 << 16), SIZE)

    def describe(self) -> str:
        return "a camera filming the fake screen"

    def close(self) -> None:
        pass

    def __enter__(self) -> "FilmingCamera":
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass


@pytest.fixture
def fake_devices(monkeypatch: pytest.MonkeyPatch) -> Callable[[int | None], FakeScreen]:
    """Replaces the window and the camera ``run_glass`` opens; returns a maker of the screen to use."""

    def use(quit_after: int | None = None) -> FakeScreen:
        screen = FakeScreen(quit_after)
        monkeypatch.setattr("bench.glass.PatternWindow", lambda: screen)
        monkeypatch.setattr("bench.glass.open_source", lambda camera, source, options: FilmingCamera(screen))
        return screen

    monkeypatch.setattr("bench.glass.WARMUP_S", 0.2)
    return use


def test_run_glass_measures_the_live_pipeline_for_the_given_time(fake_devices, demo_model):
    screen = fake_devices()
    messages: list[str] = []
    figures = run_glass(0, demo_model, 1.5, say=messages.append)
    counts = figures.counts
    assert figures.camera == "a camera filming the fake screen" and figures.model == str(demo_model)
    assert 10 <= counts.frames <= 50  # 1.5 s at 30 fps after the warm-up, fewer if frames are dropped
    assert counts.read == counts.frames and counts.unreadable == counts.implausible == 0
    assert 0 < counts.latency.p50 <= counts.latency.max < 1000
    assert figures.values_drawn == screen.value + 1 > counts.frames
    document = figures.to_json()
    assert document["latency_ms"] == counts.latency.to_json() and document["fps"] == figures.pipeline.fps
    assert any("frames read - q or Esc quits" in status for status in screen.statuses)
    assert any(message.startswith("glass-to-glass latency p50") for message in messages)


def test_run_glass_stops_when_the_window_is_quit(fake_devices, demo_model):
    fake_devices(quit_after=5)
    figures = run_glass(0, demo_model, 60)
    assert figures.values_drawn == 5
    assert figures.counts.frames == 0 and "no frame read" in format_glass(figures.counts)


def test_run_glass_refuses_a_measuring_time_of_zero_before_opening_anything():
    with pytest.raises(SwapcamError, match="expected a measuring time above 0 seconds, got 0"):
        run_glass(0, Path("unused.onnx"), 0)


@pytest.mark.skipif(platform.system() != "Linux", reason="the display check is Linux's")
def test_the_pattern_window_needs_a_display(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(SwapcamError, match="expected DISPLAY or WAYLAND_DISPLAY"):
        PatternWindow()
