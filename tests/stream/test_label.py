import numpy as np
import pytest

from stream.label import LABEL_TEXT, draw_label, draw_overlay, text_box

SIZES = [(320, 240), (640, 360), (1280, 720), (1920, 1080)]


def noise(width: int, height: int) -> np.ndarray:
    """Values 40..200: darkening changes every pixel, and white text stands out from all of them."""
    return np.random.default_rng(width).integers(40, 201, (height, width, 3), np.uint8)


def changed_area(before: np.ndarray, after: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(np.any(before != after, axis=2))
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_label_changes_its_corner_box_and_nothing_else(width, height):
    frame = noise(width, height)
    before = frame.copy()
    draw_label(frame)
    x0, y0, x1, y1 = text_box(frame.shape, [LABEL_TEXT], "bottom-left")
    assert changed_area(before, frame) == (x0, y0, x1, y1)
    outside = np.ones((height, width), bool)
    outside[y0:y1, x0:x1] = False
    assert frame[outside].tobytes() == before[outside].tobytes()
    inside, was = frame[y0:y1, x0:x1], before[y0:y1, x0:x1]
    # every pixel darkened, bar a rare anti-aliased text edge that lands on its old value
    assert np.mean(np.any(inside != was, axis=2)) > 0.99
    # the darkened background is at most 50: brighter pixels are the white text
    assert np.mean(inside.min(axis=2) >= 150) > 0.05
    # bottom-left, small, and readable: text about 3-5 % of the frame height, at least 10 px
    assert x0 < 0.05 * width and y1 > 0.95 * height
    assert (x1 - x0) * (y1 - y0) < 0.05 * width * height
    assert 14 <= y1 - y0 <= 0.15 * height


def test_the_label_grows_with_the_frame():
    heights = [text_box((height, width, 3), [LABEL_TEXT], "bottom-left") for width, height in SIZES]
    box_heights = [y1 - y0 for _, y0, _, y1 in heights]
    assert box_heights == sorted(box_heights) and box_heights[-1] > 2.5 * box_heights[0]


def test_the_label_needs_text():
    with pytest.raises(ValueError, match="needs text"):
        draw_label(noise(320, 240), "  ")


def test_custom_label_text_is_drawn_wider():
    short = text_box((240, 320, 3), ["AI"], "bottom-left")
    long = text_box((240, 320, 3), ["AI-modified video"], "bottom-left")
    assert long[2] > short[2] and long[1] == short[1]


@pytest.mark.parametrize(("width", "height"), [(320, 240), (1920, 1080)])
def test_the_overlay_draws_its_lines_top_left_and_nothing_else(width, height):
    lines = ["12.3 fps", "latency p50 41.0 ms p95 55.2 ms"]
    frame = noise(width, height)
    before = frame.copy()
    draw_overlay(frame, lines)
    x0, y0, x1, y1 = text_box(frame.shape, lines, "top-left")
    assert changed_area(before, frame) == (x0, y0, x1, y1)
    assert x0 < 0.05 * width and y0 < 0.05 * height
    one_line = text_box(frame.shape, lines[:1], "top-left")
    assert y1 - y0 > 1.5 * (one_line[3] - one_line[1])


def test_an_overlay_without_lines_draws_nothing():
    frame = noise(320, 240)
    before = frame.copy()
    draw_overlay(frame, [])
    assert frame.tobytes() == before.tobytes()


def test_a_frame_smaller_than_the_label_keeps_its_size_and_is_drawn_into():
    frame = noise(48, 30)
    draw_label(frame)
    draw_overlay(frame, ["99 fps"])
    assert frame.shape == (30, 48, 3)
    x0, y0, x1, y1 = text_box(frame.shape, [LABEL_TEXT], "bottom-left")
    assert 0 <= x0 < x1 <= 48 and 0 <= y0 < y1 <= 30
