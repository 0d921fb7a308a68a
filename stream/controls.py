"""Live controls: keys pressed in the preview window change how the next frames are swapped.

``press(settings, key)`` is the whole key map, a pure function; ``LiveControls`` holds the current
settings for the pipeline's threads (the preview's event loop writes, the swap and blend stages read) and
the message shown on screen after a change. The disclosure label has no key: only ``--no-label`` at start
removes it.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from stream.blend_options import (
    COLOUR_TRANSFERS,
    INTERPOLATIONS,
    MAX_MASK_FRACTION,
    SCALE_RANGE,
    BlendOptions,
)

MASK_STEP = 0.01  # of the crop side, per key press
SCALE_STEP = 0.02
MESSAGE_SECONDS = 2.0
HELP_SECONDS = 6.0
HELP = (  # short lines: the overlay's text is sized for the frame height, and a 640x360 frame is narrow
    "s  swap on/off     c  colour transfer",
    "e/E  erode -/+     f/F  feather -/+",
    "+/-  face scale    i  interpolation",
    "o  stats    h  these keys    q  quit",
)


@dataclass(frozen=True)
class LiveSettings:
    """What a key can change while the stream runs."""

    swap: bool = True
    overlay: bool = False
    blend: BlendOptions = field(default_factory=BlendOptions)


def _cycle(values: tuple[str, ...], current: str) -> str:
    return values[(values.index(current) + 1) % len(values)]


def _nudge(value: float, step: float, low: float, high: float) -> float:
    return round(min(max(value + step, low), high), 4)


def _blend(settings: LiveSettings, **changes: Any) -> LiveSettings:
    return replace(settings, blend=replace(settings.blend, **changes))


def press(settings: LiveSettings, key: str) -> tuple[LiveSettings, tuple[str, ...]]:
    """The settings after ``key`` and the lines that say what it did (none: the key means nothing)."""
    blend = settings.blend
    low, high = SCALE_RANGE
    changes: dict[str, Callable[[], LiveSettings]] = {
        "s": lambda: replace(settings, swap=not settings.swap),
        "o": lambda: replace(settings, overlay=not settings.overlay),
        "c": lambda: _blend(settings, colour=_cycle(COLOUR_TRANSFERS, blend.colour)),
        "i": lambda: _blend(settings, interpolation=_cycle(INTERPOLATIONS, blend.interpolation)),
        "e": lambda: _blend(settings, erode=_nudge(blend.erode, -MASK_STEP, 0.0, MAX_MASK_FRACTION)),
        "E": lambda: _blend(settings, erode=_nudge(blend.erode, MASK_STEP, 0.0, MAX_MASK_FRACTION)),
        "f": lambda: _blend(settings, feather=_nudge(blend.feather, -MASK_STEP, 0.0, MAX_MASK_FRACTION)),
        "F": lambda: _blend(settings, feather=_nudge(blend.feather, MASK_STEP, 0.0, MAX_MASK_FRACTION)),
        "+": lambda: _blend(settings, scale=_nudge(blend.scale, SCALE_STEP, low, high)),
        "=": lambda: _blend(settings, scale=_nudge(blend.scale, SCALE_STEP, low, high)),  # + without shift
        "-": lambda: _blend(settings, scale=_nudge(blend.scale, -SCALE_STEP, low, high)),
    }
    if key == "h":
        return settings, HELP
    if key not in changes:
        return settings, ()
    changed = changes[key]()
    return changed, describe(changed)


def describe(settings: LiveSettings) -> tuple[str, str]:
    """Two short lines with every setting a key changes."""
    blend = settings.blend
    return (
        f"swap {'on' if settings.swap else 'OFF'}   colour {blend.colour}   scale {blend.scale:.2f}",
        f"erode {blend.erode:.2f}   feather {blend.feather:.2f}   {blend.interpolation}",
    )


class LiveControls:
    """The current ``LiveSettings`` and on-screen message, shared between the preview's event loop (which
    calls ``key``) and the stages (which call ``settings`` and ``message`` once per frame)."""

    def __init__(self, settings: LiveSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._message: tuple[str, ...] = ()
        self._until = 0.0
        self._clock = clock
        self._lock = threading.Lock()

    def settings(self) -> LiveSettings:
        with self._lock:
            return self._settings

    def key(self, code: int) -> None:
        """React to a key code from ``cv2.waitKey`` (ignored when it means nothing)."""
        if not 0 <= code < 0x110000:
            return
        with self._lock:
            self._settings, lines = press(self._settings, chr(code))
            if lines:
                self._message = lines
                self._until = self._clock() + (HELP_SECONDS if lines == HELP else MESSAGE_SECONDS)

    def message(self) -> tuple[str, ...]:
        """What to show on the frame now: the last change's lines, for a few seconds."""
        with self._lock:
            return self._message if self._clock() < self._until else ()
