import threading
import time
import traceback

import pytest

from stream.packet import FramePacket
from stream.pipeline import Pipeline, Stage, StopRequested
from tests.stream.fakes import FakeCamera, number_of, numbered_frame


def file_reader(frames: int):
    remaining = iter(range(frames))

    def read():
        index = next(remaining, None)
        return None if index is None else numbered_frame(index)

    return read


def passthrough(packet: FramePacket) -> FramePacket:
    return packet


def slow(seconds: float):
    def stage(packet: FramePacket) -> FramePacket:
        time.sleep(seconds)
        return packet

    return stage


def collect(into: list):
    return into.append


def test_file_mode_delivers_every_frame_in_order_with_stage_spans():
    delivered: list[FramePacket] = []
    stages = [Stage("a", slow(0.002)), Stage("b", passthrough), Stage("c", slow(0.001))]
    with Pipeline(file_reader(60), stages, collect(delivered), live=False) as pipeline:
        assert pipeline.wait(timeout=10)
    assert [p.index for p in delivered] == list(range(60))
    assert [number_of(p.frame) for p in delivered] == list(range(60))
    assert all(list(p.spans) == ["read", "a", "b", "c"] for p in delivered)
    assert all(p.spans["a"][1] - p.spans["a"][0] >= 2_000_000 for p in delivered)
    assert pipeline.dropped == 0 and pipeline.frames_read == 60


def test_a_slow_consumer_of_a_camera_gets_the_latest_frames_and_drops_are_counted():
    delivered: list[FramePacket] = []
    camera = FakeCamera(frames=120, fps=400)
    with Pipeline(camera.read, [Stage("slow", slow(0.02))], collect(delivered), live=True) as pipeline:
        assert pipeline.wait(timeout=10)
    indices = [p.index for p in delivered]
    assert indices == sorted(indices) and pipeline.frames_read == 120
    assert pipeline.dropped > 40 and len(delivered) + pipeline.dropped <= 120
    # latency stays bounded: at most the frame being worked on, the queued ones and one fresh frame
    assert max(p.spans["slow"][0] - p.capture_ns for p in delivered) < 0.1e9
    assert delivered[-1].dropped == max(p.dropped for p in delivered) > 0


def boom(packet: FramePacket) -> FramePacket:
    if packet.index == 5:
        raise ZeroDivisionError("stage exploded on frame 5")
    return packet


def test_a_failing_stage_stops_the_pipeline_with_its_error_and_traceback():
    before = set(threading.enumerate())
    delivered: list[FramePacket] = []
    pipeline = Pipeline(
        file_reader(10_000), [Stage("ok", passthrough), Stage("boom", boom)], collect(delivered), False
    )
    with pytest.raises(ZeroDivisionError, match="frame 5") as error, pipeline:
        pipeline.wait(timeout=10)
    assert "in boom" in "".join(traceback.format_tb(error.value.__traceback__))
    # frames before the failure may still be in flight when it stops everything: a prefix, never more
    assert [p.index for p in delivered] == list(range(len(delivered))) and len(delivered) <= 5
    assert pipeline.frames_read < 10_000
    assert set(threading.enumerate()) <= before


def test_stop_joins_every_thread_within_two_seconds_even_when_blocked():
    before = set(threading.enumerate())
    blocker = threading.Event()

    def stuck_sink(packet: FramePacket) -> None:
        blocker.wait(0.5)  # a sink slower than the stop: its thread ends after the call returns

    pipeline = Pipeline(FakeCamera(frames=10_000, fps=100).read, [Stage("s", passthrough)], stuck_sink, True)
    pipeline.start()
    time.sleep(0.2)
    started = time.monotonic()
    pipeline.stop()
    assert time.monotonic() - started < 2.0
    assert set(threading.enumerate()) <= before
    pipeline.stop()  # safe twice


def test_stop_requested_by_a_sink_ends_the_run_without_an_error():
    def quit_at_three(packet: FramePacket) -> None:
        if packet.index == 3:
            raise StopRequested

    with Pipeline(file_reader(1000), [Stage("s", passthrough)], quit_at_three, False) as pipeline:
        assert pipeline.wait(timeout=5)
    assert pipeline.frames_read < 1000


def test_a_pipeline_needs_a_stage():
    with pytest.raises(ValueError):
        Pipeline(file_reader(1), [], lambda packet: None, False)


def test_with_a_camera_a_slow_middle_stage_drops_frames_instead_of_queueing_them():
    delivered: list[FramePacket] = []
    stages = [Stage("fast", slow(0.002)), Stage("slow", slow(0.03)), Stage("after", slow(0.002))]
    with Pipeline(FakeCamera(frames=150, fps=100).read, stages, collect(delivered), live=True) as pipeline:
        assert pipeline.wait(timeout=10)
    latencies = sorted((p.spans["after"][1] - p.capture_ns) / 1e6 for p in delivered)
    # the slow stage works 30 ms; with stale frames queued in front of it p50 was ~98 ms, without ~45 ms
    assert latencies[len(latencies) // 2] < 75
    assert pipeline.dropped > 0 and delivered[-1].dropped > 0


def test_idle_runs_on_the_waiting_thread_and_its_stop_request_ends_the_run_cleanly():
    calls = []

    def idle() -> None:
        calls.append(threading.current_thread())
        if len(calls) == 20:
            raise StopRequested

    camera = FakeCamera(frames=10_000, fps=100)
    with Pipeline(camera.read, [Stage("s", passthrough)], lambda packet: None, True) as pipeline:
        assert pipeline.wait(timeout=10, idle=idle)
    assert len(calls) == 20 and set(calls) == {threading.current_thread()}
    assert pipeline.frames_read < 10_000
