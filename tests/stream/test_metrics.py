import itertools
from types import MappingProxyType

import numpy as np
import pytest

from stream.metrics import (
    FrameRecord,
    Histogram,
    RunLog,
    format_rolling,
    percentiles,
    rolling,
    summarise,
    timeline,
)

MS = 1_000_000


def record(
    index: int,
    capture_ms: float,
    spans_ms: dict[str, tuple[float, float]],
    sent_ms: float,
    *,
    faces=1,
    dropped=0,
):
    spans = MappingProxyType({k: (int(a * MS), int(b * MS)) for k, (a, b) in spans_ms.items()})
    return FrameRecord(index, int(capture_ms * MS), int(sent_ms * MS), faces, dropped, spans)


def test_percentiles_match_numpy_and_an_empty_list_is_zero():
    values = list(np.random.default_rng(0).exponential(10.0, 1000))
    figures = percentiles(values)
    assert figures.p50 == pytest.approx(np.percentile(values, 50))
    assert figures.p99 == pytest.approx(np.percentile(values, 99)) and figures.max == max(values)
    assert figures.min == min(values) and figures.mean == pytest.approx(np.mean(values))
    assert percentiles([]).to_json() == {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0, "mean": 0.0}


def test_stage_work_and_wait_come_from_the_spans():
    # read 0-2, wait 1, landmarks 3-10, wait 2, swap 12-17; capture stamp at 2, sent at 20
    r = record(0, 2, {"read": (0, 2), "landmarks": (3, 10), "swap": (12, 17)}, 20)
    stages = summarise([r], 1, 0).stages
    assert stages["landmarks"]["work"].p50 == pytest.approx(7.0, rel=0.003)
    assert stages["landmarks"]["wait"].p50 == pytest.approx(1.0, rel=0.003)
    assert stages["swap"]["wait"].max == 2.0 and stages["read"]["work"].max == 2.0
    assert "wait" not in stages["read"] and r.latency_ms == 18.0


def test_summary_counts_frames_faces_drops_and_fps():
    records = [
        record(i, i * 10, {"read": (i * 10 - 1, i * 10)}, i * 10 + 25, faces=i % 2, dropped=i // 3)
        for i in range(11)
    ]
    summary = summarise(records, frames_read=14, dropped=3)
    assert summary.frames_delivered == 11 and summary.frames_read == 14 and summary.frames_dropped == 3
    assert summary.frames_with_faces == 5 and summary.faces == 5
    assert summary.frames_without_faces == (0, 2, 4, 6, 8, 10)
    assert summary.fps == pytest.approx(100.0)  # one frame every 10 ms
    assert summary.latency.p50 == pytest.approx(25.0, rel=0.003)
    assert summarise(records[:1], frames_read=1, dropped=0).fps == 0.0
    report = summary.to_json()  # what --report and the bench write: the same keys as ever
    assert report["frames_without_faces"] == [0, 2, 4, 6, 8, 10] and set(report["latency_ms"]) == {
        "p50", "p95", "p99", "max", "mean"
    }  # fmt: skip
    assert report["stages_ms"]["read"]["work"]["max"] == summary.stages["read"]["work"].max


def test_rolling_figures_cover_only_the_last_second():
    records = [record(i, i * 100, {}, i * 100 + 40 + (i >= 10) * 20, dropped=i) for i in range(20)]
    figures = rolling(records, now_ns=records[-1].sent_ns, window_s=1.0)
    assert figures["fps"] == 10.0 and figures["p50"] == 60.0 and figures["dropped"] == 19
    assert "10.0 fps" in format_rolling(figures) and "dropped 19" in format_rolling(figures)


def test_run_log_returns_recent_records():
    log = RunLog()
    for i in range(5):
        log.add(record(i, i * 1000, {}, i * 1000 + 1))
    assert [r.index for r in log.recent(now_ns=4001 * MS, window_s=1.5)] == [3, 4]
    assert log.summary(5, 0).frames_delivered == 5


def test_histogram_percentiles_are_within_a_quarter_percent_and_max_and_mean_exact():
    values = np.random.default_rng(1).lognormal(3.0, 1.0, 20_000)
    histogram = Histogram()
    for value in values:
        histogram.add(float(value))
    figures = histogram.figures()
    for name, share in (("p50", 50), ("p95", 95), ("p99", 99)):
        assert getattr(figures, name) == pytest.approx(np.percentile(values, share), rel=0.0026)
    assert figures.max == values.max() and figures.mean == pytest.approx(values.mean())
    assert Histogram().figures() == percentiles([])


def test_a_long_run_keeps_constant_memory_and_a_thinned_timeline():
    log = RunLog(timeline_points=100)
    spans = {"read": (0.0, 1.0), "swap": (2.0, 5.0)}
    for i in range(50_000):
        log.add(record(i, i * 10, {k: (i * 10 + a, i * 10 + b) for k, (a, b) in spans.items()}, i * 10 + 7,
                       faces=int(i % 3 > 0)))  # fmt: skip
    summary = log.summary(50_000, 0)
    assert summary.frames_delivered == 50_000 and summary.frames_with_faces == 33_333
    assert len(summary.frames_without_faces) == 1000  # listed up to a bound, all counted
    assert len(log.recent(now_ns=(49_999 * 10 + 7) * MS, window_s=1e6)) <= 4096
    points = log.timeline()
    assert 50 <= len(points) < 100 and points[0][0] == 0 and points[-1][0] > 40_000
    gaps = {b[0] - a[0] for a, b in itertools.pairwise(points)}
    assert len(gaps) == 1  # evenly spread over the whole run
    assert summary.stages["swap"]["work"].p50 == pytest.approx(3.0, rel=0.003)


def test_timeline_lists_every_frame_from_the_first_delivery():
    records = [record(i, i * 10, {}, i * 10 + 5) for i in (3, 4, 6)]
    assert timeline(records) == [[3, 0.0, 5.0], [4, 0.01, 5.0], [6, 0.03, 5.0]]
    assert timeline([]) == []
