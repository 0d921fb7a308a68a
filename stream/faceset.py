"""The folder ``swapcam extract`` writes and training reads.

Layout::

    DIR/faces/<name>.png   aligned BGR crops
    DIR/masks/<name>.png   landmark hull masks (0/255)
    DIR/index.npz          one row per face (arrays below) and ``meta``: a JSON string with the
                           alignment spec, template id, landmark count and what was extracted from
                           which source (so a second run skips finished sources)
"""

import json
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from stream.align import AlignSpec, alignment_of, alignment_record
from stream.errors import SwapcamError
from stream.files import atomic_output
from stream.types import Affine, Landmarks

INDEX_NAME = "index.npz"
FACES_DIR, MASKS_DIR = "faces", "masks"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class SourceEntry:
    """What one source contributed, and the stamp that tells whether it changed since."""

    path: str  # absolute
    size: int
    mtime_ns: int
    every: int
    max_faces: int
    frames_read: int
    frames_without_face: int
    faces: int


@dataclass(frozen=True)
class FaceRecord:
    """One aligned face."""

    name: str  # file name under faces/ and masks/
    source: str  # absolute path of the video or image
    frame: int  # frame index in the source (0 for images)
    face: int  # 0 = largest face in that frame
    landmarks_frame: Landmarks  # (N, 2) in source pixels
    landmarks_crop: Landmarks  # (N, 2) in crop pixels
    matrix: Affine  # source pixels → crop pixels
    face_size: float  # side in source pixels of the square the crop covers
    sharpness: float  # variance of the Laplacian of the grey crop


@dataclass(frozen=True)
class FaceSet:
    spec: AlignSpec
    landmark_count: int
    sources: tuple[SourceEntry, ...] = ()
    records: tuple[FaceRecord, ...] = field(default=(), repr=False)


def _meta_json(faceset: FaceSet) -> str:
    return json.dumps(
        {
            "format_version": FORMAT_VERSION,
            "template": faceset.spec.template,
            "spec": {key: value for key, value in asdict(faceset.spec).items() if key != "template"},
            "landmark_count": faceset.landmark_count,
            "sources": [asdict(source) for source in faceset.sources],
        }
    )


def write_faceset_index(folder: Path, faceset: FaceSet) -> None:
    """Write ``folder/index.npz`` atomically (temporary file, then rename)."""
    records, points = faceset.records, faceset.landmark_count
    with atomic_output(folder / INDEX_NAME) as part, part.open("wb") as handle:
        np.savez(
            handle,
            meta=np.array(_meta_json(faceset)),
            name=np.array([r.name for r in records], dtype=np.str_),
            source=np.array([r.source for r in records], dtype=np.str_),
            frame=np.array([r.frame for r in records], np.int32),
            face=np.array([r.face for r in records], np.int16),
            landmarks_frame=np.array([r.landmarks_frame for r in records], np.float32).reshape(-1, points, 2),
            landmarks_crop=np.array([r.landmarks_crop for r in records], np.float32).reshape(-1, points, 2),
            matrix=np.array([r.matrix for r in records], np.float64).reshape(-1, 2, 3),
            face_size=np.array([r.face_size for r in records], np.float32),
            sharpness=np.array([r.sharpness for r in records], np.float32),
        )


def read_faceset(folder: Path) -> FaceSet:
    """Load an extract folder's index; a missing, foreign or damaged index is a ``SwapcamError``."""
    path = folder / INDEX_NAME
    if not path.is_file():
        raise SwapcamError(f"{folder} has no {INDEX_NAME}: expected a folder written by `swapcam extract`")
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            columns = {key: data[key] for key in data.files if key != "meta"}
        return _faceset_from(meta, columns, path)
    except (OSError, ValueError, KeyError, TypeError, IndexError, zipfile.BadZipFile) as error:
        raise SwapcamError(
            f"{path} is damaged or not a swapcam face index ({type(error).__name__}: {error})"
        ) from error


def _faceset_from(meta: dict, columns: dict[str, np.ndarray], path: Path) -> FaceSet:
    found = meta.get("format_version")
    if found != FORMAT_VERSION:
        raise SwapcamError(f"{path} has format version {found}, expected {FORMAT_VERSION}: re-extract it")
    records = tuple(
        FaceRecord(
            name=str(columns["name"][i]),
            source=str(columns["source"][i]),
            frame=int(columns["frame"][i]),
            face=int(columns["face"][i]),
            landmarks_frame=columns["landmarks_frame"][i],
            landmarks_crop=columns["landmarks_crop"][i],
            matrix=columns["matrix"][i],
            face_size=float(columns["face_size"][i]),
            sharpness=float(columns["sharpness"][i]),
        )
        for i in range(len(columns["name"]))
    )
    template = alignment_record(meta)["template"]
    try:
        alignment_of(template)
    except ValueError as error:
        raise SwapcamError(
            f"{path} holds faces aligned in a way this swapcam cannot crop ({error}): extract them again"
        ) from error
    return FaceSet(
        spec=AlignSpec(**{**meta["spec"], "template": template}),
        landmark_count=int(meta["landmark_count"]),
        sources=tuple(SourceEntry(**source) for source in meta["sources"]),
        records=records,
    )
