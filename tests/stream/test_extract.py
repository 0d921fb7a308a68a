import json
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from stream.align import AlignSpec
from stream.cli import main
from stream.extract import ExtractOptions, extract
from stream.faceset import FACES_DIR, INDEX_NAME, MASKS_DIR, read_faceset


def run_cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = main(["extract", *map(str, args), "--no-progress"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_the_sample_clips_give_aligned_faces_in_almost_every_frame(extracted):
    woman, man = read_faceset(extracted["woman"]), read_faceset(extracted["man"])
    assert len(woman.records) >= 430 and woman.sources[0].frames_read == 472
    assert len(man.records) == 72 and man.sources[0].frames_read == 72
    for folder, faceset in ((extracted["woman"], woman), (extracted["man"], man)):
        assert faceset.spec == AlignSpec("whole_face", 128) and faceset.landmark_count == 468
        frames = [record.frame for record in faceset.records]
        assert frames == sorted(set(frames))
        for record in faceset.records[::25]:
            crop = cv2.imread(str(folder / FACES_DIR / record.name))
            mask = cv2.imread(str(folder / MASKS_DIR / record.name), cv2.IMREAD_GRAYSCALE)
            assert crop.shape == (128, 128, 3) and mask.shape == (128, 128)
            assert set(np.unique(mask)) == {0, 255} and 0.3 < (mask > 0).mean() < 0.9
            assert record.landmarks_frame.shape == record.landmarks_crop.shape == (468, 2)
            assert record.matrix.shape == (2, 3) and 100 < record.face_size < 400 and record.sharpness > 0


def test_a_second_run_does_no_work_twice(extracted, sample_paths):
    folder = extracted["man"]
    before = {p.name: p.stat().st_mtime_ns for p in (folder / FACES_DIR).iterdir()}
    summary = extract([sample_paths["man"]], folder, ExtractOptions(spec=AlignSpec("whole_face", 128)), False)
    assert summary.faces_written == 0 and summary.already_extracted == [sample_paths["man"]]
    assert summary.faces_available == 72
    assert {p.name: p.stat().st_mtime_ns for p in (folder / FACES_DIR).iterdir()} == before


def test_a_changed_source_replaces_its_faces_without_duplicates(tmp_path, sample_paths):
    clip = tmp_path / "clip.mp4"
    shutil.copy(sample_paths["man"], clip)
    options = ExtractOptions(spec=AlignSpec("face", 64), every=12)
    assert extract([clip], tmp_path / "out", options, False).faces_written == 6
    os.utime(clip, ns=(clip.stat().st_atime_ns, clip.stat().st_mtime_ns + 10**9))
    assert extract([clip], tmp_path / "out", options, False).faces_written == 6
    assert len(read_faceset(tmp_path / "out").records) == 6
    assert len(list((tmp_path / "out" / FACES_DIR).iterdir())) == 6


def test_folders_of_images_are_searched_and_other_files_ignored(tmp_path, man_frames, capsys):
    photos = tmp_path / "photos" / "nested"
    photos.mkdir(parents=True)
    for index, frame in enumerate(man_frames[:2]):
        cv2.imwrite(str(photos / f"{index}.jpg"), frame)
    (photos / "notes.txt").write_text("not a picture")
    code, out, _ = run_cli(capsys, tmp_path / "photos", "--out", tmp_path / "out", "--size", 96)
    assert code == 0 and out.startswith("2 faces written from 2 frames")
    assert len(read_faceset(tmp_path / "out").records) == 2


def write_video(path: Path, frames: int = 20) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 20, (160, 120))
    for index in range(frames):
        frame = np.zeros((120, 160, 3), np.uint8)
        cv2.rectangle(frame, (index * 5, 30), (index * 5 + 40, 90), (0, 200, 255), -1)
        writer.write(frame)
    writer.release()


def test_a_video_without_faces_reports_it_and_fails(tmp_path, capsys):
    write_video(tmp_path / "boxes.mp4")
    code, out, _ = run_cli(capsys, tmp_path / "boxes.mp4", "--out", tmp_path / "out")
    assert code == 1
    assert "0 faces written from 20 frames (20 frames without a face)" in out and "no usable faces" in out


def test_a_file_that_is_not_media_is_counted_as_skipped(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("hello")
    code, out, _ = run_cli(capsys, tmp_path / "notes.txt", "--out", tmp_path / "out")
    assert code == 1 and "skipped 1 source(s), not an image or video" in out


def test_a_damaged_video_is_counted_as_unreadable(tmp_path, sample_paths, capsys):
    (tmp_path / "broken.mp4").write_bytes(b"\x00" * 4096)
    code, out, _ = run_cli(
        capsys, tmp_path / "broken.mp4", sample_paths["man"], "--out", tmp_path / "o", "--every", 24
    )
    assert code == 0 and "skipped 1 source(s), unreadable" in out and out.startswith("3 faces written")


BAD_OPTIONS: dict[str, list[object]] = {
    "size out of range": ["--size", 32],
    "face type dflive lacks": ["--align", "dflive", "--face-type", "face"],
    "coverage out of dflive range": ["--align", "dflive", "--coverage", 9],
    "every zero": ["--every", 0],
}


def bad_input_args(case: str, tmp: Path) -> list[object]:
    if case in BAD_OPTIONS:
        return [tmp, "--out", tmp / "out", *BAD_OPTIONS[case]]
    if case == "missing path":
        return [tmp / "missing.mp4", "--out", tmp / "out"]
    if case == "empty folder":
        (tmp / "empty").mkdir()
        return [tmp / "empty", "--out", tmp / "out"]
    (tmp / "file").write_text("a file where a folder should go")
    (tmp / "face.png").write_bytes(b"")
    return [tmp / "face.png", "--out", tmp / "file" / "out"]  # unwritable out


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing path", "no such file or folder"),
        ("empty folder", "holds no images or videos"),
        ("unwritable out", "cannot be created"),
        ("size out of range", "crop size must be 64..640"),
        ("face type dflive lacks", "face type must be one of ['whole_face'] with template dflive-uni468-v1"),
        ("coverage out of dflive range", "coverage must be 0.1..8 with template dflive-uni468-v1, got 9"),
        ("every zero", "must be >= 1"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(tmp_path, capsys, case, message):
    code, _, err = run_cli(capsys, *bad_input_args(case, tmp_path))
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1


def test_an_output_folder_made_with_other_options_is_refused(extracted, sample_paths, capsys):
    code, _, err = run_cli(capsys, sample_paths["man"], "--out", extracted["man"], "--size", 64)
    assert code == 1 and "choose another --out" in err


def test_dflive_alignment_is_recorded_with_its_default_coverage(tmp_path, sample_paths, extracted, capsys):
    out = tmp_path / "dfl"
    code, _, err = run_cli(capsys, sample_paths["man"], "--out", out, "--align", "dflive", "--every", 24)
    faceset = read_faceset(out)
    assert code == 0, err
    assert (faceset.spec.template, faceset.spec.coverage, len(faceset.records)) == (
        "dflive-uni468-v1",
        2.2,
        3,
    )
    code, _, err = run_cli(capsys, sample_paths["man"], "--out", extracted["man"], "--align", "dflive")
    assert code == 1 and "template dflive-uni468-v1" in err and "choose another --out" in err


def test_an_index_with_an_unknown_template_is_reported(tmp_path, sample_paths, capsys):
    out = tmp_path / "old"
    run_cli(capsys, sample_paths["man"], "--out", out, "--every", 36, "--size", 64)
    with np.load(out / INDEX_NAME) as data:
        columns = dict(data)
    meta = json.loads(str(columns["meta"]))
    columns["meta"] = np.array(json.dumps({**meta, "template": "dfl-68"}))
    np.savez(out / INDEX_NAME, **columns)
    code, _, err = run_cli(capsys, sample_paths["man"], "--out", out, "--every", 36, "--size", 64)
    assert code == 1 and "aligned in a way this swapcam cannot crop" in err and "dfl-68" in err


def test_an_index_written_before_the_template_rename_still_reads(tmp_path, sample_paths, capsys):
    out = tmp_path / "older"
    run_cli(capsys, sample_paths["man"], "--out", out, "--every", 36, "--size", 64, "--align", "dflive")
    with np.load(out / INDEX_NAME) as data:
        columns = dict(data)
    meta = json.loads(str(columns["meta"]))
    meta["align_template"] = meta.pop("template")  # as swapcam wrote it before
    columns["meta"] = np.array(json.dumps(meta))
    np.savez(out / INDEX_NAME, **columns)
    assert read_faceset(out).spec.template == "dflive-uni468-v1"


def test_a_damaged_index_is_reported(tmp_path, sample_paths, capsys):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / INDEX_NAME).write_bytes(b"garbage")
    code, _, err = run_cli(capsys, sample_paths["man"], "--out", tmp_path / "out")
    assert code == 1 and "damaged or not a swapcam face index" in err


def test_a_run_that_finds_no_face_leaves_no_folder_behind(tmp_path, capsys):
    clip = tmp_path / "blank.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter.fourcc(*"mp4v"), 10.0, (64, 48))
    for _ in range(5):
        writer.write(np.full((48, 64, 3), 128, np.uint8))
    writer.release()
    code, out, _ = run_cli(capsys, clip, "--out", tmp_path / "faces")
    assert code == 1 and "no usable faces" in out and not (tmp_path / "faces").exists()


def test_a_truncated_video_says_how_many_of_its_frames_were_read(sample_paths, tmp_path, capsys):
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(sample_paths["woman"].read_bytes()[:200_000])  # its index comes first: still opens
    code, _, err = run_cli(capsys, cut, "--out", tmp_path / "faces", "--every", 8)
    assert code == 0 and "of the 472 frames its container announces: truncated or damaged" in err
