"""Swap quality of a source clip and its swapped version, frame by frame, judged independently.

Identity: dlib's recogniser (``stream.recognise``) gives each output face's distance to identity B (the mean
descriptor of B's reference faces) and to A (the mean of the unswapped source faces). Yardsticks put those
distances in context: the same distance for the unswapped source, for B's own faces, for another photo of
B, and for strangers. Expression: mouth and eye opening of output vs input over time (correlation), and
the aligned landmark error. Stability: frame-to-frame change inside the face region, output vs input.
Sharpness: fine detail inside the inner face region (clear of its outline and hair), output vs input.
"""

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from bench import face_cache
from stream.errors import SwapcamError
from stream.landmarks import MESH_POINTS, DetectedFace, FaceLandmarker
from stream.media import MediaFile, collect_media, read_image, read_video
from stream.quality import (
    aligned_landmark_error,
    correlation,
    eye_opening,
    face_detail,
    inter_ocular,
    mouth_opening,
    region_change,
)
from stream.recognise import Descriptor, FaceRecogniser, distances
from stream.types import BGRFrame, Box

Pair = tuple[int, BGRFrame, BGRFrame]  # frame index, input frame, output frame


@dataclass(frozen=True)
class FrameFigures:
    index: int
    input_face: bool
    output_face: bool
    box: tuple[float, float, float, float] | None = None  # input face: left, top, right, bottom (pixels)
    distance_a: float = float("nan")  # output face to A's mean descriptor
    distance_b: float = float("nan")
    distance_stranger: float = float("nan")  # to the nearest stranger
    mouth_in: float = float("nan")
    mouth_out: float = float("nan")
    eye_in: float = float("nan")
    eye_out: float = float("nan")
    landmark_error: float = float("nan")
    change_in: float = float("nan")  # mean grey-level change in the face region since the last frame
    change_out: float = float("nan")
    detail_in: float = float("nan")  # mean |Laplacian| in the inner face region (``face_detail``)
    detail_out: float = float("nan")


@dataclass(frozen=True)
class References:
    a: Descriptor
    b: Descriptor
    strangers: NDArray[np.float64]  # (K, 128) one descriptor per stranger's face
    # name → (median distance to B, median distance to A) of faces that are not the output
    yardsticks: dict[str, tuple[float, float]] = field(default_factory=dict)
    shape_gap: float = float("nan")  # ``shape_gap`` of A's and B's reference faces


@dataclass(frozen=True)
class SeenFaces:
    descriptors: NDArray[np.float64]  # (N, 128)
    landmarks: list[NDArray[np.float32]]  # N times (468, 2), frame pixels


def face_descriptors(
    paths: Sequence[Path], recogniser: FaceRecogniser, every: int = 1, cache: Path | None = None
) -> SeenFaces:
    """Descriptors and landmarks of every face (up to 8 per image, the largest of each video frame) in
    videos, images or folders of them; with a ``cache`` folder, each file is described once
    (``bench.face_cache``)."""
    descriptors: list[NDArray[np.float64]] = []
    landmarks: list[NDArray[np.float32]] = []
    for media in collect_media(paths):
        max_faces = 1 if media.kind == "video" else 8
        name = face_cache.key(media.path, every, max_faces) if cache is not None else ""
        faces = face_cache.load(cache, name) if cache is not None else None
        if faces is None:
            faces = _describe(media, recogniser, every, max_faces)
            if cache is not None:
                face_cache.store(cache, name, faces)
        descriptors.append(faces[0])
        landmarks += list(faces[1])
    return SeenFaces(
        descriptors=np.concatenate(descriptors).reshape(-1, 128) if descriptors else np.zeros((0, 128)),
        landmarks=landmarks,
    )


def _describe(media: MediaFile, recogniser: FaceRecogniser, every: int, max_faces: int) -> face_cache.Faces:
    """(descriptors (N, 128), landmarks (N, 468, 2)) of the faces in one media file."""
    if media.kind == "video":
        with FaceLandmarker("video") as landmarker:
            pairs = [
                (recogniser.describe(frame, face.landmarks), face.landmarks)
                for _, frame in read_video(media.path, every)
                for face in landmarker.detect(frame)[:max_faces]
            ]
    else:
        frame = read_image(media.path)
        with FaceLandmarker("image", max_faces=max_faces) as landmarker:
            pairs = [(recogniser.describe(frame, f.landmarks), f.landmarks) for f in landmarker.detect(frame)]
    return (
        np.array([d for d, _ in pairs], np.float64).reshape(-1, 128),
        np.array([points for _, points in pairs], np.float32)
        if pairs
        else np.zeros((0, MESH_POINTS, 2), np.float32),
    )


def shape_gap(faces_a: list[NDArray[np.float32]], faces_b: list[NDArray[np.float32]]) -> float:
    """Median aligned landmark error between each face of A and the face of B whose mouth is open the most
    alike: what two people's face shapes alone add to the landmark error of a swap that takes on B's shape."""
    if not faces_a or not faces_b:
        return float("nan")
    mouths_b = np.array([mouth_opening(points) for points in faces_b])
    nearest = [faces_b[int(np.argmin(np.abs(mouths_b - mouth_opening(points))))] for points in faces_a]
    return float(np.median([aligned_landmark_error(a, b) for a, b in zip(faces_a, nearest, strict=True)]))


def yardstick(descriptors: NDArray[np.float64], a: Descriptor, b: Descriptor) -> tuple[float, float]:
    return float(np.median(distances(descriptors, b))), float(np.median(distances(descriptors, a)))


def file_pairs(
    source: Path, swapped: Path, every: int = 1, on_short: Callable[[str], None] | None = None
) -> Iterator[Pair]:
    """Frames of a source clip and of its swapped version, in step (the swap keeps every frame). Clips of
    different lengths are not a swap of one another: that is an error, not a shorter report."""
    frames = (read_video(source, every, on_short), read_video(swapped, every, on_short))
    for first, second in itertools.zip_longest(*frames):
        if first is None or second is None:
            raise SwapcamError(
                f"--swapped {swapped} and --source {source} differ in length: expected one swapped frame per "
                "source frame"
            )
        yield first[0], first[1], second[1]


def folder_pairs(
    source: Path, folder: Path, every: int = 1, on_short: Callable[[str], None] | None = None
) -> Iterator[Pair]:
    """A source clip's frames beside the numbered PNGs a swap wrote for it (``FolderSink``)."""
    for index, frame in read_video(source, every, on_short):
        output = read_image(folder / f"{index:06d}.png")
        yield index, frame, output


def evaluate(pairs: Iterable[Pair], references: References, recogniser: FaceRecogniser) -> list[FrameFigures]:
    figures: list[FrameFigures] = []
    previous: tuple[BGRFrame, BGRFrame] | None = None
    with FaceLandmarker("video") as inputs, FaceLandmarker("video") as outputs:
        for index, frame, output in pairs:
            found = (inputs.detect(frame), outputs.detect(output))
            figures.append(
                _frame_figures(
                    (index, frame, output),
                    found,
                    previous=previous,
                    references=references,
                    recogniser=recogniser,
                )
            )
            previous = (frame, output)
    return figures


def _frame_figures(
    pair: Pair,
    found: tuple[list[DetectedFace], list[DetectedFace]],
    *,
    previous: tuple[BGRFrame, BGRFrame] | None,
    references: References,
    recogniser: FaceRecogniser,
) -> FrameFigures:
    index, frame, output = pair
    found_in, found_out = found
    box = _corners(found_in[0].box) if found_in else None
    if not found_in or not found_out:
        return FrameFigures(index, bool(found_in), bool(found_out), box)
    points_in, points_out = found_in[0].landmarks, found_out[0].landmarks
    descriptor = recogniser.describe(output, points_out)
    changes = (float("nan"), float("nan"))
    region = _face_region(frame.shape[:2], points_in)
    inner = _inner(region, points_in)
    if previous is not None:
        changes = (region_change(previous[0], frame, region), region_change(previous[1], output, region))
    return FrameFigures(
        index=index,
        input_face=True,
        output_face=True,
        box=box,
        distance_a=float(distances(descriptor, references.a)[0]),
        distance_stranger=float(distances(references.strangers, descriptor).min())
        if len(references.strangers)
        else float("nan"),
        distance_b=float(distances(descriptor, references.b)[0]),
        mouth_in=mouth_opening(points_in),
        mouth_out=mouth_opening(points_out),
        eye_in=eye_opening(points_in),
        eye_out=eye_opening(points_out),
        landmark_error=aligned_landmark_error(points_in, points_out),
        change_in=changes[0],
        change_out=changes[1],
        detail_in=face_detail(frame, inner),
        detail_out=face_detail(output, inner),
    )


def _corners(box: Box) -> tuple[float, float, float, float]:
    left, top, right, bottom = (float(v) for v in box)
    return left, top, right, bottom


def _face_region(shape: tuple[int, ...], landmarks: NDArray[np.float32]) -> NDArray[np.bool_]:
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(landmarks).astype(np.int32)), (1,))
    return mask.astype(bool)


def detail_ratio(pairs: Iterable[Pair]) -> float:
    """Fine detail of the outputs over the inputs', each in its input face's inner region (frames where
    FaceMesh finds a face in the input); NaN without one."""
    detail_in, detail_out = [], []
    with FaceLandmarker("video") as landmarker:
        for _, frame, output in pairs:
            found = landmarker.detect(frame)
            if found:
                points = found[0].landmarks
                inner = _inner(_face_region(frame.shape[:2], points), points)
                detail_in.append(face_detail(frame, inner))
                detail_out.append(face_detail(output, inner))
    return _ratio(np.array(detail_out, np.float64), np.array(detail_in, np.float64))


def _inner(region: NDArray[np.bool_], landmarks: NDArray[np.float32]) -> NDArray[np.bool_]:
    """The face region less a band of 15% of the inter-ocular distance along its outline: detail there is
    the edge between face and background or hair, not the face's own."""
    band = max(1, round(0.15 * inter_ocular(landmarks)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))
    return cv2.erode(region.astype(np.uint8), kernel).astype(bool)


def series(frames: Sequence[FrameFigures], name: str) -> NDArray[np.float64]:
    return np.array([getattr(frame, name) for frame in frames], np.float64)


@dataclass(frozen=True)
class Summary:
    frames: int
    input_faces: int
    faces_lost: int  # frames with a face in the input but none found in the output
    closer_to_b_fraction: float
    nearer_b_than_strangers_fraction: float  # output nearer to B than to any stranger
    median_distance_b: float
    median_distance_a: float
    mouth_correlation: float
    eye_correlation: float
    landmark_error: float  # median, inter-ocular units
    flicker_ratio: float  # output's mean change in the face region over the input's
    detail_ratio: float  # output's mean fine detail in the inner face region over the input's (1: as sharp)
    yardsticks: dict[str, tuple[float, float]]
    shape_gap: float  # the landmark error two people's face shapes alone give (``shape_gap``)
    # the detail ratio of a perfect model at the swap model's crop (``bench.ceiling``); NaN: not measured
    detail_ceiling: float = float("nan")

    def checks(self) -> dict[str, tuple[float | int, str, bool]]:
        """Each target: (measured, the bar as text, met)."""
        bar_b = self.yardsticks.get("another photo of B", (float("nan"), 0.0))[0]
        return {
            "closer to B than to A": (self.closer_to_b_fraction, "≥ 0.90", self.closer_to_b_fraction >= 0.9),
            "median distance to B": (self.median_distance_b, f"≤ {bar_b:.3f} (another photo of B)",
                                     bool(self.median_distance_b <= bar_b)),
            "mouth-opening correlation": (self.mouth_correlation, "≥ 0.80", self.mouth_correlation >= 0.8),
            "aligned landmark error": (self.landmark_error, "≤ 0.040", self.landmark_error <= 0.04),
            "faces lost": (self.faces_lost, "0", self.faces_lost == 0),
        }  # fmt: skip

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "checks": {k: list(v) for k, v in self.checks().items()}}


def summarise(
    frames: Sequence[FrameFigures], references: References, detail_ceiling: float = float("nan")
) -> Summary:
    both = [frame for frame in frames if frame.input_face and frame.output_face]
    distance_a, distance_b = series(both, "distance_a"), series(both, "distance_b")
    change_in, change_out = series(both, "change_in"), series(both, "change_out")
    return Summary(
        frames=len(frames),
        input_faces=sum(frame.input_face for frame in frames),
        faces_lost=sum(frame.input_face and not frame.output_face for frame in frames),
        closer_to_b_fraction=float((distance_b < distance_a).mean()) if both else 0.0,
        nearer_b_than_strangers_fraction=float((distance_b < series(both, "distance_stranger")).mean())
        if both
        else 0.0,
        median_distance_b=_median(distance_b),
        median_distance_a=_median(distance_a),
        mouth_correlation=correlation(series(both, "mouth_in"), series(both, "mouth_out")),
        eye_correlation=correlation(series(both, "eye_in"), series(both, "eye_out")),
        landmark_error=_median(series(both, "landmark_error")),
        flicker_ratio=_ratio(change_out, change_in),
        detail_ratio=_ratio(series(both, "detail_out"), series(both, "detail_in")),
        yardsticks=references.yardsticks,
        shape_gap=references.shape_gap,
        detail_ceiling=detail_ceiling,
    )


def _ratio(numerator: NDArray[np.float64], denominator: NDArray[np.float64]) -> float:
    """Mean over mean, ignoring NaN; NaN when either has no value."""
    if np.isnan(numerator).all() or np.isnan(denominator).all():
        return float("nan")
    return float(np.nanmean(numerator) / np.nanmean(denominator))


def _median(values: NDArray[np.float64]) -> float:
    return float(np.nanmedian(values)) if len(values) and not np.isnan(values).all() else float("nan")
