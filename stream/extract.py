"""``swapcam extract``: find faces in videos, images and folders and save aligned crops with an index.

A source already extracted with the same options (same size and mtime, same --every/--max-faces) is
skipped, so a second run does no work twice; a changed source is extracted again and replaces its faces.
The index is rewritten after every video (and every few seconds for images), so an interrupted run keeps
what it finished.
"""

import contextlib
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from stream import align, media
from stream.errors import SwapcamError
from stream.faceset import (
    FACES_DIR,
    INDEX_NAME,
    MASKS_DIR,
    FaceRecord,
    FaceSet,
    SourceEntry,
    read_faceset,
    write_faceset_index,
)
from stream.landmarks import MESH_POINTS, MESH_POINTS_WITH_IRIS, FaceLandmarker
from stream.types import BGRCrop, BGRFrame, Mask

INDEX_WRITE_INTERVAL_S = 5.0


@dataclass(frozen=True)
class ExtractOptions:
    spec: align.AlignSpec
    every: int = 1
    max_faces: int = 1
    refine_iris: bool = False

    def __post_init__(self) -> None:
        if self.every < 1 or self.max_faces < 1:
            raise ValueError(f"--every and --max-faces must be >= 1, got {self.every} and {self.max_faces}")

    @property
    def landmark_count(self) -> int:
        return MESH_POINTS_WITH_IRIS if self.refine_iris else MESH_POINTS


@dataclass
class ExtractSummary:
    """Counts for the final report; ``faces_available`` includes faces kept from earlier runs."""

    frames_read: int = 0
    frames_without_face: int = 0
    faces_written: int = 0
    faces_available: int = 0
    already_extracted: list[Path] = field(default_factory=list)
    skipped: dict[str, list[Path]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # e.g. videos shorter than their containers announce

    def skip(self, reason: str, path: Path) -> None:
        self.skipped.setdefault(reason, []).append(path)


def extract(
    paths: Sequence[Path], out: Path, options: ExtractOptions, progress: bool | None = None
) -> ExtractSummary:
    """Extract every face of every source into ``out``; see the module docstring."""
    sources = media.collect_media(paths)
    faceset = _open_faceset(out, options)
    summary = ExtractSummary()
    pending = _pending_sources(sources, faceset, options, summary)
    total = sum(media.video_frame_count(s.path) if s.kind == "video" else 1 for s in pending)
    last_write = time.monotonic()
    with contextlib.ExitStack() as stack:
        bar = stack.enter_context(
            tqdm(total=total, unit="frame", disable=progress is False or total == 0, leave=False)
        )
        stills = (
            stack.enter_context(FaceLandmarker("image", options.max_faces, options.refine_iris))
            if any(source.kind == "image" for source in pending)
            else None
        )
        try:
            for source in pending:
                faceset = _drop_source(faceset, source.path, out)
                try:
                    entry, records = _extract_source(source, options, out, stills, bar, notes=summary.notes)
                except media.UnreadableMedia:
                    summary.skip("unreadable", source.path)
                    continue
                faceset = replace(
                    faceset, sources=(*faceset.sources, entry), records=faceset.records + records
                )
                _count(summary, entry)
                if source.kind == "video" or time.monotonic() - last_write > INDEX_WRITE_INTERVAL_S:
                    write_faceset_index(out, faceset)
                    last_write = time.monotonic()
        finally:
            write_faceset_index(out, faceset)
    requested = {str(s.path) for s in sources}
    summary.faces_available = sum(record.source in requested for record in faceset.records)
    return summary


def _open_faceset(out: Path, options: ExtractOptions) -> FaceSet:
    """The existing index in ``out`` if it matches ``options``, else a new empty set; checks writability."""
    try:
        (out / FACES_DIR).mkdir(parents=True, exist_ok=True)
        (out / MASKS_DIR).mkdir(exist_ok=True)
        probe = out / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise SwapcamError(f"cannot write to --out {out}: {error.strerror or error}") from error
    if not (out / INDEX_NAME).exists():
        return FaceSet(spec=options.spec, landmark_count=options.landmark_count)
    existing = read_faceset(out)
    if (existing.spec, existing.landmark_count) != (options.spec, options.landmark_count):
        raise SwapcamError(
            f"{out} holds faces extracted as {existing.spec} with {existing.landmark_count} landmarks, "
            f"but this run asks for {options.spec} with {options.landmark_count}: choose another --out"
        )
    return existing


def _pending_sources(
    sources: list[media.MediaFile], faceset: FaceSet, options: ExtractOptions, summary: ExtractSummary
) -> list[media.MediaFile]:
    done = {(e.path, e.size, e.mtime_ns, e.every, e.max_faces) for e in faceset.sources}
    pending = []
    for source in sources:
        stat = source.path.stat()
        if source.kind == "unknown":
            summary.skip("not an image or video", source.path)
        elif (str(source.path), stat.st_size, stat.st_mtime_ns, options.every, options.max_faces) in done:
            summary.already_extracted.append(source.path)
        else:
            pending.append(source)
    return pending


def _drop_source(faceset: FaceSet, path: Path, out: Path) -> FaceSet:
    """Forget an earlier extraction of ``path`` (it changed, or options differ) and delete its files."""
    for record in faceset.records:
        if record.source == str(path):
            (out / FACES_DIR / record.name).unlink(missing_ok=True)
            (out / MASKS_DIR / record.name).unlink(missing_ok=True)
    return replace(
        faceset,
        sources=tuple(s for s in faceset.sources if s.path != str(path)),
        records=tuple(r for r in faceset.records if r.source != str(path)),
    )


def _extract_source(
    source: media.MediaFile,
    options: ExtractOptions,
    out: Path,
    stills: FaceLandmarker | None,
    bar: tqdm,
    *,
    notes: list[str],
) -> tuple[SourceEntry, tuple[FaceRecord, ...]]:
    prefix = f"{source.path.stem}-{hashlib.sha1(str(source.path).encode()).hexdigest()[:6]}"
    records: list[FaceRecord] = []
    frames_read = frames_without_face = 0
    with contextlib.ExitStack() as stack:
        if source.kind == "video":
            landmarker = stack.enter_context(FaceLandmarker("video", options.max_faces, options.refine_iris))
            frames = media.read_video(source.path, options.every, notes.append)
        else:
            assert stills is not None, "an image landmarker is opened whenever images are pending"
            landmarker, frames = stills, iter([(0, media.read_image(source.path))])
        for frame_index, frame in frames:
            faces = landmarker.detect(frame)
            frames_read += 1
            frames_without_face += not faces
            for face_index, face in enumerate(faces):
                name = f"{prefix}_{frame_index:06d}_{face_index}.png"
                aligned = align.align_face(frame, face.landmarks, options.spec)
                _write_pngs(out, name, aligned.crop, align.hull_mask(aligned.landmarks, options.spec.size))
                records.append(
                    FaceRecord(
                        name=name,
                        source=str(source.path),
                        frame=frame_index,
                        face=face_index,
                        landmarks_frame=face.landmarks,
                        landmarks_crop=aligned.landmarks.astype(np.float32),
                        matrix=aligned.matrix,
                        face_size=align.face_size_in_frame(aligned.matrix, options.spec),
                        sharpness=sharpness(aligned.crop),
                    )
                )
            bar.update(options.every if source.kind == "video" else 1)
            bar.set_postfix(faces=len(records), refresh=False)
    stat = source.path.stat()
    entry = SourceEntry(
        path=str(source.path),
        size=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
        every=options.every,
        max_faces=options.max_faces,
        frames_read=frames_read,
        frames_without_face=frames_without_face,
        faces=len(records),
    )
    return entry, tuple(records)


def _write_pngs(out: Path, name: str, crop: BGRCrop, mask: Mask) -> None:
    for folder, image in ((FACES_DIR, crop), (MASKS_DIR, mask)):
        if not cv2.imwrite(str(out / folder / name), image):
            raise SwapcamError(f"could not write {out / folder / name} (disk full or removed?)")


def sharpness(crop: BGRFrame) -> float:
    """Variance of the Laplacian of the grey image: higher is sharper."""
    return float(cv2.Laplacian(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def _count(summary: ExtractSummary, entry: SourceEntry) -> None:
    summary.frames_read += entry.frames_read
    summary.frames_without_face += entry.frames_without_face
    summary.faces_written += entry.faces
