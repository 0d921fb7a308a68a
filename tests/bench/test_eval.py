"""`swapcam eval` on real footage: unswapped A is judged to be A with perfect fidelity, B's clip to be B."""

import json
from pathlib import Path

import numpy as np
import pytest

from bench.evaluate import FrameFigures, References, summarise
from stream.cli import main


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith("swapcam eval: error:")]
    assert len(errors) == 1 and not any("Traceback" in line for line in err), err
    return errors[0]


def run_eval(capsys, *arguments) -> dict:
    out = arguments[arguments.index("--out") + 1]
    code = main(["eval", *arguments])
    assert code == 0, capsys.readouterr().err
    return json.loads((Path(out) / "report.json").read_text())


@pytest.mark.slow
def test_unswapped_a_is_a_with_perfect_fidelity(sample_paths, tmp_path, capsys):
    woman = str(sample_paths["woman"])
    report = run_eval(capsys, "--source", woman, "--swapped", woman, "--every", "16", "--out", str(tmp_path))
    summary = report["summary"]
    assert summary["frames"] == 30 and summary["faces_lost"] == 0
    assert summary["closer_to_b_fraction"] == 0.0
    assert summary["median_distance_a"] < 0.4 and summary["median_distance_b"] > 0.7
    assert summary["mouth_correlation"] > 0.999 and summary["eye_correlation"] > 0.999
    assert summary["landmark_error"] < 1e-3 and summary["flicker_ratio"] == pytest.approx(1.0)
    assert summary["detail_ratio"] == pytest.approx(1.0)
    # two people with the same mouth opening still differ by their face shapes
    assert summary["shape_gap"] > 0.04
    # the yardsticks: the man's own frames and his other photo are near B, the strangers are not
    yardsticks = summary["yardsticks"]
    assert yardsticks["B's own faces"][0] < yardsticks["another photo of B"][0] < 0.6
    assert yardsticks["nearest stranger to B"][0] > yardsticks["another photo of B"][0]
    for name in ("report.md", "report.json", "contact.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert "| closer to B than to A | 0.000 | ≥ 0.90 | **no** |" in (tmp_path / "report.md").read_text()


@pytest.mark.slow
def test_the_mans_clip_is_b(sample_paths, tmp_path, capsys):
    man, woman = str(sample_paths["man"]), str(sample_paths["woman"])
    arguments = [
        "--source",
        man,
        "--swapped",
        man,
        "--reference-a",
        woman,
        "--every",
        "4",
        "--out",
        str(tmp_path),
    ]
    summary = run_eval(capsys, *arguments)["summary"]
    assert summary["closer_to_b_fraction"] == 1.0 and summary["nearer_b_than_strangers_fraction"] == 1.0
    assert summary["median_distance_b"] < 0.3


def test_bad_paths_are_one_line_errors_before_any_work(sample_paths, tmp_path, capsys):
    woman = sample_paths["woman"]
    assert main(["eval", "--source", str(woman), "--swapped", str(tmp_path / "nope.mp4"), "--out", "x"]) == 1
    assert "no such file or folder" in one_line_error(capsys)
    assert main(["eval", "--source", str(woman), "--swapped", str(woman), "--out", str(woman)]) == 1
    assert "--out" in one_line_error(capsys)
    assert main(["eval", "--out", str(tmp_path), "--every", "0"]) == 1
    assert "--every must be at least 1" in one_line_error(capsys)
    man = sample_paths["man"]
    assert main(["eval", "--source", str(woman), "--swapped", str(man), "--out", str(tmp_path / "r")]) == 1
    assert "differ in length" in one_line_error(capsys)


def test_faces_lost_and_identity_fractions_are_counted_per_frame():
    frames = [
        FrameFigures(0, True, True, (0, 0, 1, 1), distance_a=0.8, distance_b=0.4, distance_stranger=0.6),
        FrameFigures(1, True, False, (0, 0, 1, 1)),
        FrameFigures(2, False, False),
        FrameFigures(3, True, True, (0, 0, 1, 1), distance_a=0.3, distance_b=0.5, distance_stranger=0.45),
    ]
    references = References(a=np.zeros(128), b=np.ones(128), strangers=np.zeros((0, 128)))
    summary = summarise(frames, references)
    assert summary.faces_lost == 1 and summary.input_faces == 3 and summary.frames == 4
    assert summary.closer_to_b_fraction == 0.5 and summary.nearer_b_than_strangers_fraction == 0.5
    assert summary.median_distance_b == pytest.approx(0.45)
    assert not summary.checks()["faces lost"][2] and not summary.checks()["closer to B than to A"][2]


def test_a_truncated_source_is_named(sample_paths, tmp_path, capsys):
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(sample_paths["woman"].read_bytes()[:200_000])
    out = tmp_path / "report"
    arguments = ["--source", str(cut), "--swapped", str(cut), "--every", "16", "--out", str(out)]
    assert main(["eval", *arguments]) == 0
    assert "of the 472 frames its container announces: truncated or damaged" in capsys.readouterr().err
