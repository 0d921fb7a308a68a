"""Text drawn on output frames: the responsible-use disclosure label and the fps/latency overlay.

Both draw in place and touch only their own box: a darkened rectangle with white text, sized from the frame
height so that it stays readable from 240p to 1080p and small enough to leave the picture alone.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import cv2

from stream.types import BGRFrame

LABEL_TEXT = "AI-modified"
FONT = cv2.FONT_HERSHEY_SIMPLEX
FONT_PIXELS = 22  # cap height of FONT at scale 1.0
TEXT_SHARE = 0.035  # text height / frame height: 8 px at 240p would be too small, hence MIN_TEXT_PIXELS
MIN_TEXT_PIXELS = 10
WHITE = (255, 255, 255)

Corner = Literal["top-left", "bottom-left"]
Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels, end-exclusive, clipped to the frame


@dataclass(frozen=True)
class TextStyle:
    scale: float  # cv2.putText font scale
    thickness: int
    text_height: int  # pixels above the baseline
    line_height: int  # pixels from one baseline to the next
    pad: int  # pixels between the text and the box edge, and between the box and the frame edge


def text_style(frame_height: int) -> TextStyle:
    """The text size for a frame of this height."""
    text_height = max(MIN_TEXT_PIXELS, round(frame_height * TEXT_SHARE))
    scale = text_height / FONT_PIXELS
    thickness = max(1, round(scale * 1.5))
    pad = max(3, text_height // 3)
    return TextStyle(scale, thickness, text_height, text_height + pad, pad)


def text_box(frame_shape: tuple[int, ...], lines: Sequence[str], corner: Corner) -> Rect:
    """The rectangle ``lines`` occupy when drawn in ``corner`` of a frame of this (H, W, ...) shape."""
    height, width = frame_shape[:2]
    style = text_style(height)
    widest = max(cv2.getTextSize(line, FONT, style.scale, style.thickness)[0][0] for line in lines)
    descent = style.text_height // 3 + style.thickness  # below the last baseline: descenders, stroke edge
    box_width = widest + 2 * style.pad + style.thickness
    box_height = (len(lines) - 1) * style.line_height + style.text_height + descent + 2 * style.pad
    x0 = style.pad
    y0 = style.pad if corner == "top-left" else height - style.pad - box_height
    return _clip((x0, y0, x0 + box_width, y0 + box_height), width, height)


def _clip(rect: Rect, width: int, height: int) -> Rect:
    x0, y0, x1, y1 = rect
    return max(0, x0), max(0, y0), min(width, x1), min(height, y1)


def draw_label(frame: BGRFrame, text: str = LABEL_TEXT) -> None:
    """The disclosure label, bottom-left, in place: output frames say they were modified."""
    if not text.strip():
        raise ValueError("the disclosure label needs text, got an empty string")
    _draw_block(frame, [text], "bottom-left")


def draw_overlay(frame: BGRFrame, lines: Sequence[str]) -> None:
    """A small block of text (fps, latency) at the top-left, in place; no lines draws nothing."""
    if lines:
        _draw_block(frame, lines, "top-left")


def _draw_block(frame: BGRFrame, lines: Sequence[str], corner: Corner) -> None:
    x0, y0, x1, y1 = text_box(frame.shape, lines, corner)
    if x1 <= x0 or y1 <= y0:
        return
    style = text_style(frame.shape[0])
    box = frame[y0:y1, x0:x1]  # a view: drawing into it changes the frame and nothing outside the box
    box >>= 2  # darken to a quarter: the text stays legible on any background
    for row, line in enumerate(lines):
        baseline = style.pad + style.text_height + row * style.line_height
        origin = (style.pad, baseline)
        cv2.putText(box, line, origin, FONT, style.scale, WHITE, style.thickness, cv2.LINE_AA)
