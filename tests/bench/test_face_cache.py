import numpy as np

from bench import evaluate, face_cache
from stream.recognise import FaceRecogniser
from stream.samples import ensure_samples


def faces(count: int) -> face_cache.Faces:
    rng = np.random.default_rng(count)
    return rng.normal(size=(count, 128)), rng.uniform(0, 640, (count, 468, 2)).astype(np.float32)


def test_an_entry_reads_back_as_written_and_a_damaged_one_reads_as_none(tmp_path):
    written = faces(3)
    face_cache.store(tmp_path, "entry", written)
    descriptors, landmarks = face_cache.load(tmp_path, "entry")
    assert np.array_equal(descriptors, written[0]) and np.array_equal(landmarks, written[1])
    (tmp_path / "entry.npz").write_bytes(b"half an npz")
    assert face_cache.load(tmp_path, "entry") is None and face_cache.load(tmp_path, "missing") is None


def test_the_key_follows_the_content_and_the_settings(tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"one")
    first = face_cache.key(path, 1, 1)
    assert face_cache.key(path, 1, 1) == first
    assert len({first, face_cache.key(path, 4, 1), face_cache.key(path, 1, 8)}) == 3
    path.write_bytes(b"two")
    assert face_cache.key(path, 1, 1) != first


def test_a_reference_photo_is_described_once_and_the_same_from_the_cache(tmp_path, monkeypatch):
    photo = ensure_samples()["man-photo"]
    with FaceRecogniser() as recogniser:
        fresh = evaluate.face_descriptors([photo], recogniser)
        first = evaluate.face_descriptors([photo], recogniser, cache=tmp_path)

        def describe_again(*args: object) -> face_cache.Faces:
            raise AssertionError("described again instead of read from the cache")

        monkeypatch.setattr(evaluate, "_describe", describe_again)
        cached = evaluate.face_descriptors([photo], recogniser, cache=tmp_path)
    assert len(fresh.descriptors) >= 1 and len(list(tmp_path.glob("*.npz"))) == 1
    for seen in (first, cached):
        assert np.allclose(seen.descriptors, fresh.descriptors)
        assert all(np.allclose(a, b) for a, b in zip(seen.landmarks, fresh.landmarks, strict=True))
