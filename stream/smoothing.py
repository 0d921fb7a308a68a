"""One-Euro filtering of face landmarks, per point and per face track.

Casiez, Roussel, Vogel: "1€ Filter: A Simple Speed-based Low-pass Filter for Noisy Input in Interactive
Systems", CHI 2012. Slow movement is smoothed hard (jitter disappears), fast movement barely (no lag).

Everything here is a pure function over immutable state: the caller keeps the returned tracks and hands
them back with the next frame. A face that is not matched in a frame loses its track, so its filter
restarts from the raw landmarks when it is found again.
"""

from dataclasses import dataclass

import numpy as np

from stream.types import Box, Landmarks


@dataclass(frozen=True)
class OneEuroParams:
    """Cut-offs in Hz; ``beta`` in Hz per (pixel/second) of landmark speed."""

    min_cutoff: float = 1.0
    beta: float = 0.02
    d_cutoff: float = 1.0

    def __post_init__(self) -> None:
        if self.min_cutoff <= 0 or self.d_cutoff <= 0 or self.beta < 0:
            raise ValueError(f"One-Euro cut-offs must be > 0 and beta >= 0, got {self}")


@dataclass(frozen=True)
class OneEuroState:
    """Filtered position and speed of every point at time ``t`` (seconds)."""

    t: float
    value: Landmarks  # (N, 2) filtered positions
    speed: Landmarks  # (N, 2) filtered velocity, pixels per second


@dataclass(frozen=True)
class Track:
    """One face followed across frames: its last box and its filter state."""

    box: Box
    state: OneEuroState


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray:
    tau = 1.0 / (2.0 * np.pi * np.asarray(cutoff, np.float64))
    return 1.0 / (1.0 + tau / dt)


def one_euro_step(
    state: OneEuroState | None, points: Landmarks, t: float, params: OneEuroParams
) -> OneEuroState:
    """Filter one new observation (N, 2) at time ``t``; ``state=None`` starts a filter."""
    points = np.asarray(points, np.float32)
    if state is None or state.value.shape != points.shape:
        return OneEuroState(t=t, value=points.copy(), speed=np.zeros_like(points))
    dt = t - state.t
    if dt <= 0:
        raise ValueError(f"timestamps must increase, got {t} after {state.t}")
    raw_speed = (points - state.value) / dt
    speed = state.speed + _alpha(params.d_cutoff, dt) * (raw_speed - state.speed)
    cutoff = params.min_cutoff + params.beta * np.linalg.norm(speed, axis=1, keepdims=True)
    value = state.value + _alpha(cutoff, dt) * (points - state.value)
    return OneEuroState(t=t, value=value.astype(np.float32), speed=speed.astype(np.float32))


def _box_distance(a: Box, b: Box) -> float:
    """Distance between box centres relative to the size of ``a``."""
    centre_a, centre_b = (a[:2] + a[2:]) / 2, (b[:2] + b[2:]) / 2
    side = max(float(a[2] - a[0]), float(a[3] - a[1]), 1.0)
    return float(np.linalg.norm(centre_a - centre_b)) / side


def match_tracks(tracks: tuple[Track, ...], boxes: list[Box], max_distance: float = 0.5) -> list[int | None]:
    """For each new box, the index of the previous track it continues (nearest centre), or None."""
    pairs = sorted(
        (_box_distance(track.box, box), t_index, b_index)
        for t_index, track in enumerate(tracks)
        for b_index, box in enumerate(boxes)
    )
    matched: list[int | None] = [None] * len(boxes)
    used_tracks: set[int] = set()
    for distance, t_index, b_index in pairs:
        if distance <= max_distance and t_index not in used_tracks and matched[b_index] is None:
            matched[b_index] = t_index
            used_tracks.add(t_index)
    return matched


def smooth_faces(
    tracks: tuple[Track, ...], faces: list[tuple[Box, Landmarks]], t: float, params: OneEuroParams
) -> tuple[tuple[Track, ...], list[Landmarks]]:
    """Smooth the landmarks of every face in one frame; returns the new tracks and smoothed landmarks.

    Tracks without a face in this frame end here (the face was lost: its filter resets).
    """
    matches = match_tracks(tracks, [box for box, _ in faces])
    new_tracks = []
    for (box, points), t_index in zip(faces, matches, strict=True):
        previous = tracks[t_index].state if t_index is not None else None
        new_tracks.append(Track(box=box, state=one_euro_step(previous, points, t, params)))
    return tuple(new_tracks), [track.state.value for track in new_tracks]
