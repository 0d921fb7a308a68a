"""`swapcam eval` reports: report.json (every figure and every frame), report.md (tables a person reads)
and contact.png (input above output for a spread of frames, each with its distance to B)."""

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np

from bench.evaluate import FrameFigures, Summary
from stream.files import atomic_output
from stream.types import BGRFrame

CONTACT_FRAMES = 8
CONTACT_SIDE = 160  # pixels per face in the contact sheet


def figure_text(value: float | int, digits: int = 3) -> str:
    """A figure as reports print it: counts as integers, NaN as n/a."""
    if isinstance(value, int):
        return str(value)
    return "n/a" if math.isnan(value) else f"{value:.{digits}f}"


def write_json(
    path: Path, summary: Summary, frames: Sequence[FrameFigures], about: Mapping[str, object]
) -> None:
    document = {
        "about": dict(about),
        "summary": summary.to_dict(),
        "frames": [asdict(frame) for frame in frames],
    }
    text = json.dumps(document, indent=1, allow_nan=True)
    with atomic_output(path) as part:
        part.write_text(text)


def markdown(summary: Summary, about: Mapping[str, object]) -> str:
    lines = ["# Swap quality", ""]
    lines += [f"- {key}: {value}" for key, value in about.items()]
    lines += ["", "## Targets", "", "| figure | measured | target | met |", "|---|---|---|---|"]
    for name, (value, bar, met) in summary.checks().items():
        lines.append(f"| {name} | {figure_text(value)} | {bar} | {'yes' if met else '**no**'} |")
    lines += [
        "",
        "## Identity (dlib face descriptors; under 0.6 apart: the same person to dlib)",
        "",
        "| faces | median distance to B | median distance to A |",
        "|---|---|---|",
        f"| **swapped output** | **{figure_text(summary.median_distance_b)}** | "
        f"**{figure_text(summary.median_distance_a)}** |",
    ]
    for name, (to_b, to_a) in summary.yardsticks.items():
        lines.append(f"| {name} | {figure_text(to_b)} | {figure_text(to_a)} |")
    lines += [
        "",
        f"Output closer to B than to A in {summary.closer_to_b_fraction:.1%} of the frames with a face, "
        f"nearer to B than to every stranger in {summary.nearer_b_than_strangers_fraction:.1%}.",
        "",
        "## Expression and stability",
        "",
        "| figure | value | meaning |",
        "|---|---|---|",
        *_expression_rows(summary),
        f"| faces lost | {summary.faces_lost} of {summary.input_faces} | input frames with a face whose "
        "output has none FaceMesh can find |",
        "",
        "![contact sheet](contact.png)",
        "",
    ]
    return "\n".join(lines)


def _expression_rows(summary: Summary) -> list[str]:
    rows = (
        (
            "mouth-opening correlation",
            summary.mouth_correlation,
            3,
            "1: the output's mouth follows the input's",
        ),
        ("eye-opening correlation", summary.eye_correlation, 3, "the same for the eyelids"),
        (
            "aligned landmark error (median)",
            summary.landmark_error,
            3,
            "inter-ocular units, after the best similarity on rigid points; includes the face shapes",
        ),
        (
            "A's and B's own faces, same mouth opening",
            summary.shape_gap,
            3,
            "the landmark error the two people's face shapes alone give",
        ),
        (
            "flicker ratio",
            summary.flicker_ratio,
            2,
            "change in the face region, output over input (1: as steady)",
        ),
        (
            "detail ratio",
            summary.detail_ratio,
            2,
            "fine detail (|Laplacian|) in the inner face, output over input (1: as sharp; lower: blurrier)",
        ),
        (
            "detail ratio of a perfect model at this crop",
            summary.detail_ceiling,
            2,
            "the input face itself cut out at the model's resolution and pasted back: the sharpest it can be",
        ),
    )
    return [f"| {name} | {figure_text(value, digits)} | {meaning} |" for name, value, digits, meaning in rows]


def write_markdown(path: Path, summary: Summary, about: Mapping[str, object]) -> None:
    with atomic_output(path) as part:
        part.write_text(markdown(summary, about))


def contact_indices(frames: Sequence[FrameFigures], count: int = CONTACT_FRAMES) -> list[int]:
    """Positions (in ``frames``) of up to ``count`` frames with an input face, spread evenly."""
    with_face = [i for i, frame in enumerate(frames) if frame.box is not None]
    if len(with_face) <= count:
        return with_face
    return [with_face[round(k)] for k in np.linspace(0, len(with_face) - 1, count)]


def face_tile(frame: BGRFrame, box: tuple[float, float, float, float], side: int = CONTACT_SIDE) -> BGRFrame:
    """A square around the face (1.5x its box), resized to ``side``."""
    left, top, right, bottom = box
    centre_x, centre_y = (left + right) / 2, (top + bottom) / 2
    half = 0.75 * max(right - left, bottom - top)
    matrix = np.array([[side / (2 * half), 0, side / 2 - centre_x * side / (2 * half)],
                       [0, side / (2 * half), side / 2 - centre_y * side / (2 * half)]])  # fmt: skip
    tile = cv2.warpAffine(frame, matrix, (side, side), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_CONSTANT)
    return np.asarray(tile, np.uint8)  # the frame's dtype


def contact_sheet(tiles: Sequence[tuple[BGRFrame, BGRFrame, str]]) -> BGRFrame:
    """Input tiles on the top row, output tiles below, a caption under each output."""
    columns = []
    for tile_in, tile_out, caption in tiles:
        strip = np.full((24, tile_out.shape[1], 3), 255, np.uint8)
        cv2.putText(strip, caption, (4, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
        columns.append(np.vstack([tile_in, tile_out, strip]))
    return np.hstack(columns)


def write_contact(path: Path, image: BGRFrame) -> None:
    with atomic_output(path) as part:
        ok, encoded = cv2.imencode(".png", image)
        if not ok:
            raise OSError(f"PNG encoding failed for {path}")
        part.write_bytes(encoded.tobytes())
