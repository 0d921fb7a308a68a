"""The faces `swapcam eval` sees in its reference files, kept on disk by content: described once per file.

A reference clip or photo gives the same descriptors and landmarks every time it is read with the same
settings and the same FaceMesh and dlib; describing them is most of what an evaluation costs before its first
frame. Entries are named by the file's sha256, the settings and those packages' versions (``key``), written
whole or not at all, and a damaged entry is described again.
"""

import hashlib
import zipfile
from importlib import metadata
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from stream.files import atomic_output

FORMAT = 1  # raise when what bench.evaluate.face_descriptors computes for a file changes
PACKAGES = ("mediapipe", "dlib", "dlib-bin", "face-recognition-models")

Faces = tuple[NDArray[np.float64], NDArray[np.float32]]  # descriptors (N, 128), landmarks (N, 468, 2)


def key(path: Path, every: int, max_faces: int) -> str:
    """The entry name for ``path`` read every ``every``-th frame with up to ``max_faces`` faces."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    digest.update(f"format {FORMAT}, every {every}, faces {max_faces}, {_versions()}".encode())
    return digest.hexdigest()[:40]


def load(folder: Path, name: str) -> Faces | None:
    """The entry, or None when there is none or it cannot be read."""
    path = folder / f"{name}.npz"
    try:
        with np.load(path) as stored:
            return stored["descriptors"].astype(np.float64), stored["landmarks"].astype(np.float32)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None


def store(folder: Path, name: str, faces: Faces) -> None:
    """Write the entry; a cache that cannot be written only costs the next run the time."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_output(folder / f"{name}.npz") as part, part.open("wb") as handle:
            np.savez(handle, descriptors=faces[0], landmarks=faces[1])
    except OSError:
        pass


def _versions() -> str:
    found = []
    for package in PACKAGES:
        try:
            found.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    return ", ".join(found)
