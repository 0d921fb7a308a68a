"""The frame counter `swapcam bench glass` shows on screen and reads back from camera frames.

A black bar of cells: start marker, 16-bit Gray code of the counter, a parity cell, end marker. Adjacent
values differ in one data cell (and parity), so a frame caught between two values reads as one of them or
not at all. Decoding finds the bar (Otsu threshold, the largest dark regions not touching the frame edge),
fits its sides, warps it flat and samples every cell; weak contrast, an ambiguous cell, wrong markers or
parity → None, never a guess. Pure functions only.
"""

from collections.abc import Iterator

import cv2
import numpy as np
from numpy.typing import NDArray

from stream.types import BGRFrame

CellValues = NDArray[np.float64]  # (CELLS,) mean grey level of each cell, left to right

DATA_BITS = 16
START, END = (1, 1, 0), (0, 1)  # lit cells at the ends; not palindromic, so a reversed read is recognised
CELLS = len(START) + DATA_BITS + 1 + len(END)  # the 1: parity
BORDER_U, GAP_U, CELL_HEIGHT_U = 1.0, 0.3, 3.0  # in cell pitches; a lit cell is (1 - GAP_U) wide
BAR_U = (CELLS + 2 * BORDER_U, CELL_HEIGHT_U + 2 * BORDER_U)  # (width, height) of the black bar
BAR_SHARE = (0.86, 0.5)  # the most of the page's width and height the bar takes: the rest is quiet zone
PATTERN_SIZE = (1280, 720)  # drawn at this size, scaled to the screen by the window
WORK_SIDE = 640  # camera frames are read at most this wide or high
MIN_BAR_WIDTH = 4 * BAR_U[0]  # pixels at the working size: 4 per cell pitch
CANDIDATES = 4  # the largest dark regions tried, biggest first: bounds the work per frame
SIDE_MIDDLE = (0.15, 0.85)  # the part of each side, between its rough corners, that lines are fitted to
SIDE_TOLERANCE = 0.1  # of the side's length: outline points farther from the rough side are not on it
MIN_CONTRAST = 40.0  # grey levels between the brightest and darkest cell; JPEG ringing reaches ~15
AMBIGUOUS = (0.3, 0.7)  # a cell this far between dark and lit is unreadable, and so is the frame
SAMPLE_PX = 12  # canonical pixels per cell pitch when the bar is read


def gray_encode(value: int) -> int:
    return value ^ (value >> 1)


def gray_decode(code: int) -> int:
    value, shift = code, code >> 1
    while shift:
        value ^= shift
        shift >>= 1
    return value


def counter_cells(value: int) -> tuple[int, ...]:
    """The lit (1) and dark (0) cells, left to right, showing ``value``."""
    if not 0 <= value < 1 << DATA_BITS:
        raise ValueError(f"expected a counter value in 0..{(1 << DATA_BITS) - 1}, got {value}")
    code = gray_encode(value)
    data = tuple((code >> bit) & 1 for bit in reversed(range(DATA_BITS)))
    return START + data + (sum(data) % 2,) + END


def value_of_cells(cells: tuple[int, ...]) -> int | None:
    """The counter the cells show, read in either direction; None when markers or parity do not match."""
    for ordered in (cells, cells[::-1]):
        head, data = ordered[: len(START)], ordered[len(START) : len(START) + DATA_BITS]
        parity, tail = ordered[len(START) + DATA_BITS], ordered[len(START) + DATA_BITS + 1 :]
        if head == START and tail == END and sum(data) % 2 == parity:
            return gray_decode(int("".join(map(str, data)), 2))
    return None


def encode_counter(value: int, size: tuple[int, int]) -> BGRFrame:
    """A white ``size`` (width, height) page with the bar showing ``value`` in its middle."""
    width, height = size
    if width < 2 * BAR_U[0] or height < 2 * BAR_U[1]:
        raise ValueError(
            f"expected a page of at least {2 * BAR_U[0]:g}x{2 * BAR_U[1]:g}, got {width}x{height}"
        )
    pitch = min(width * BAR_SHARE[0] / BAR_U[0], height * BAR_SHARE[1] / BAR_U[1])
    x0, y0 = (width - BAR_U[0] * pitch) / 2, (height - BAR_U[1] * pitch) / 2
    page = np.full((height, width, 3), 255, np.uint8)
    page[round(y0) : round(y0 + BAR_U[1] * pitch), round(x0) : round(x0 + BAR_U[0] * pitch)] = 0
    top, bottom = round(y0 + BORDER_U * pitch), round(y0 + (BORDER_U + CELL_HEIGHT_U) * pitch)
    for index, lit in enumerate(counter_cells(value)):
        left = x0 + (BORDER_U + index + GAP_U / 2) * pitch
        if lit:
            page[top:bottom, round(left) : round(left + (1 - GAP_U) * pitch)] = 255
    return page


def decode_counter(frame: BGRFrame) -> int | None:
    """The counter shown by the bar in a camera frame, or None when no bar can be read with confidence."""
    gray = _working_gray(frame)
    for corners in _bar_candidates(gray):
        bits = _cell_bits(_cell_values(gray, corners))
        value = None if bits is None else value_of_cells(bits)
        if value is not None:
            return value
    return None


def _working_gray(frame: BGRFrame) -> NDArray[np.uint8]:
    gray = np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), np.uint8)  # the frame's 8 bits
    scale = WORK_SIDE / max(gray.shape)
    if scale >= 1:
        return gray
    return np.asarray(cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), np.uint8)


def _bar_candidates(gray: NDArray[np.uint8]) -> Iterator[NDArray[np.float32]]:
    """Corners (tl, tr, br, bl) of the largest dark regions clear of the frame's edge.

    The edge rule keeps a dark room, hair or clothes, cut by the frame, from taking the places of the bar.
    """
    _, dark = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(dark)
    height, width = gray.shape
    x, y, w, h, area = (stats[1:, column] for column in range(5))
    inside = (x > 0) & (y > 0) & (x + w < width) & (y + h < height) & (w >= MIN_BAR_WIDTH)
    for index in np.flatnonzero(inside)[np.argsort(-area[inside])][:CANDIDATES]:
        box = labels[y[index] : y[index] + h[index], x[index] : x[index] + w[index]]
        corners = _corners(box == index + 1)
        if corners is not None:
            yield corners + np.array([x[index], y[index]], np.float32)


def _corners(region: NDArray[np.bool_]) -> NDArray[np.float32] | None:
    """Where lines fitted to the middle of each side of the region meet: blur rounds the corners themselves.

    Each side runs between two rough corners, the outline's extremes along the diagonals.
    """
    contours, _ = cv2.findContours(region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    points = contours[0].reshape(-1, 2).astype(np.float32)  # one 8-connected region: one outline
    total, diff = points.sum(axis=1), points[:, 0] - points[:, 1]
    rough = points[[np.argmin(total), np.argmax(diff), np.argmax(total), np.argmin(diff)]]
    lines = []
    for start, end in zip(rough, np.roll(rough, -1, axis=0), strict=True):
        side = end - start
        length = float(np.linalg.norm(side))
        if length < 1:
            return None
        along = (points - start) @ side / length**2
        across = np.abs(np.cross(side, points - start)) / length
        middle = points[
            (along > SIDE_MIDDLE[0]) & (along < SIDE_MIDDLE[1]) & (across < SIDE_TOLERANCE * length)
        ]
        if len(middle) < 2:
            return None
        vx, vy, x0, y0 = cv2.fitLine(middle, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        lines.append(np.cross([x0, y0, 1.0], [x0 + vx, y0 + vy, 1.0]))  # homogeneous line
    # corner k joins the side ending there (k - 1) and the side starting there (k)
    corners = np.array([np.cross(lines[k - 1], lines[k]) for k in range(4)])
    if np.any(np.abs(corners[:, 2]) < 1e-9):
        return None
    return (corners[:, :2] / corners[:, 2:]).astype(np.float32)


def _cell_values(gray: NDArray[np.uint8], corners: NDArray[np.float32]) -> CellValues:
    """Mean grey of the middle of each cell, after warping the bar to its drawn proportions."""
    size = (round(BAR_U[0] * SAMPLE_PX), round(BAR_U[1] * SAMPLE_PX))
    target = np.array([[0, 0], [size[0], 0], [size[0], size[1]], [0, size[1]]], np.float32)
    bar = cv2.warpPerspective(gray, cv2.getPerspectiveTransform(corners, target), size).astype(np.float64)
    top = round((BORDER_U + 0.2 * CELL_HEIGHT_U) * SAMPLE_PX)
    bottom = round((BORDER_U + 0.8 * CELL_HEIGHT_U) * SAMPLE_PX)
    half = 0.15 * SAMPLE_PX
    centres = (BORDER_U + 0.5 + np.arange(CELLS)) * SAMPLE_PX
    return np.array([bar[top:bottom, round(c - half) : round(c + half)].mean() for c in centres])


def _cell_bits(values: CellValues) -> tuple[int, ...] | None:
    """Lit or dark per cell, relative to the darkest and brightest; None when any cell is in between."""
    low, high = values.min(), values.max()
    if high - low < MIN_CONTRAST:
        return None
    level = (values - low) / (high - low)
    if np.any((level > AMBIGUOUS[0]) & (level < AMBIGUOUS[1])):
        return None
    return tuple(int(lit) for lit in level >= AMBIGUOUS[1])
