"""The live pipeline end to end on real footage: file mode, a fake camera, a fake virtual camera, the CLI."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import cv2
import numpy as np
import pytest

from stream import align
from stream.cli import main
from stream.faceset import read_faceset
from stream.live import LiveOptions, run_live
from stream.samples import ensure_samples
from stream.sinks import VirtualCameraSink
from tests.stream.fakes import KeepingSink, ListSource, fake_backend
from tests.stream.test_encode import streams

CORNER = (slice(0, 8), slice(-8, None))  # top-right 8x8 block: far from the face and from the label


def quiet(message: str) -> None:
    pass


def count_frames(path) -> int:
    capture = cv2.VideoCapture(str(path))
    frames = 0
    while capture.read()[0]:
        frames += 1
    capture.release()
    return frames


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith("swapcam live: error:")]
    assert len(errors) == 1 and not any("Traceback" in line for line in err), err
    return errors[0]


@pytest.mark.slow
def test_file_mode_writes_every_frame_swaps_every_face_extract_found_and_reports(
    sample_paths, extracted, demo_model, tmp_path, capsys
):
    out, report = tmp_path / "out.mp4", tmp_path / "r.json"
    code = main(
        ["live", "--model", str(demo_model), "--source", str(sample_paths["woman"]), "--output", str(out),
         "--report", str(report)]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0, err
    assert "(H.264, 640x360 at 23.976 fps, sound (aac) copied)" in err
    assert {kind: codec for kind, (codec, _, _) in streams(out).items()} == {"video": "h264", "audio": "aac"}
    figures = json.loads(report.read_text())
    found = {record.frame for record in read_faceset(extracted["woman"]).records}
    assert count_frames(out) == figures["frames_read"] == figures["frames_delivered"] == 472
    assert set(range(472)) - set(figures["frames_without_faces"]) >= found and len(found) == 472
    assert figures["frames_dropped"] == 0 and figures["fps"] > 0
    assert set(figures["stages_ms"]) == {"read", "landmarks", "occlusion", "swap", "blend"}
    assert figures["latency_ms"]["p50"] > 0 and figures["machine"]["cpu"]


def test_a_picture_in_gives_the_swapped_picture_out(demo_model, tmp_path, capsys):
    photo, out = ensure_samples()["man-photo"], tmp_path / "swapped.png"
    assert main(["live", "--model", str(demo_model), "--source", str(photo), "--output", str(out)]) == 0
    assert f"sink image {out}" in capsys.readouterr().err
    before, after = cv2.imread(str(photo)), cv2.imread(str(out))
    assert after.shape == before.shape and np.abs(after.astype(int) - before).mean() > 1
    assert [path.name for path in tmp_path.iterdir()] == ["swapped.png"]


def test_frames_without_a_face_pass_through_unchanged_and_faces_change_only_near_the_face(
    woman_frames, demo_model
):
    rng = np.random.default_rng(1)
    blank = np.full_like(woman_frames[0], 90)
    noise = rng.integers(0, 256, woman_frames[0].shape, np.uint8)
    frames = [woman_frames[0], blank, woman_frames[1], noise, woman_frames[2]]
    sink = KeepingSink()
    result = run_live(ListSource(frames), [sink], LiveOptions(model=demo_model, label=False), quiet)
    assert result.figures.frames_without_faces == (1, 3)
    assert np.array_equal(sink.frames[1], blank) and np.array_equal(sink.frames[3], noise)
    for index in (0, 2, 4):
        changed = np.any(sink.frames[index] != frames[index], axis=2)
        ys, xs = np.nonzero(changed)
        assert changed.sum() > 5000  # the face was replaced
        # every changed pixel lies inside the region a ~200 px face can cover, centred on the face
        assert xs.max() - xs.min() < 320 and ys.max() - ys.min() < 320


def test_the_label_is_on_by_default_and_only_touches_its_corner(woman_frames, demo_model):
    blank = np.full_like(woman_frames[0], 90)
    sink = KeepingSink()
    run_live(ListSource([blank]), [sink], LiveOptions(model=demo_model), quiet)
    changed = np.any(sink.frames[0] != blank, axis=2)
    ys, xs = np.nonzero(changed)
    assert changed.any() and ys.min() > blank.shape[0] // 2 and xs.max() < blank.shape[1] // 2


def test_two_faces_in_one_frame_are_swapped_in_one_batch(woman_frames, man_frames, demo_model):
    height = 360
    man = cv2.resize(man_frames[0], (int(man_frames[0].shape[1] * height / man_frames[0].shape[0]), height))
    pair = np.ascontiguousarray(np.hstack([woman_frames[0], man]))
    result = run_live(
        ListSource([pair] * 3), [KeepingSink()], LiveOptions(model=demo_model, max_faces=2), quiet
    )
    assert result.figures.faces == 6


def test_a_fake_camera_reaches_a_fake_virtual_camera_in_its_format_in_order(
    woman_frames, demo_model, backends
):
    backend = backends("fake", fake_backend("I420"))
    frames = []
    for index in range(60):
        frame = woman_frames[index % len(woman_frames)].copy()
        frame[CORNER] = 40 + 3 * index  # the frame number, readable after YUV conversion
        frames.append(frame)
    camera = ListSource(frames, live=True, fps=30)
    before = set(threading.enumerate())
    with VirtualCameraSink(640, 360, 30, backend="fake") as vcam:
        result = run_live(camera, [vcam], LiveOptions(model=demo_model), quiet)
    assert set(threading.enumerate()) <= before
    received = backend.opened[-1].frames
    assert len(received) == result.figures.frames_delivered > 0
    assert all(frame.size == 640 * 360 * 3 // 2 for frame in received)
    luma = [frame[: 640 * 360].reshape(360, 640)[CORNER].mean() for frame in received]
    assert luma == sorted(luma) and len(set(np.round(luma))) == len(luma)


def test_a_camera_faster_than_the_pipeline_drops_stale_frames_instead_of_queueing(woman_frames, demo_model):
    camera = ListSource([woman_frames[i % len(woman_frames)] for i in range(300)], live=True, fps=1000)
    result = run_live(camera, [KeepingSink()], LiveOptions(model=demo_model), quiet)
    figures = result.figures
    assert figures.frames_read == 300 and figures.frames_dropped > 0
    assert figures.frames_delivered + figures.frames_dropped <= 300
    assert figures.latency.max < 1000  # bounded: never a backlog of hundreds of frames


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--camera", "99"], "camera 99"),
        (["--source", "{tmp}/notes.txt"], "expected a video file"),
        (["--source", "{tmp}/missing.mp4"], "missing.mp4"),
        (["--source", "rtsp://127.0.0.1:9/none"], "rtsp://127.0.0.1:9/none"),
        (["--source", "{woman}", "--model", "{tmp}/garbage.onnx"], "is not a loadable ONNX model"),
        (["--source", "{woman}", "--model", "{tmp}/notes.txt"], "not a model file swapcam runs"),
        (
            ["--source", "{woman}", "--vcam"],
            "modprobe v4l2loopback devices=1 exclusive_caps=1 card_label=swapcam",
        ),
        (["--source", "{woman}", "--max-faces", "0"], "max faces must be 1..8"),
        (["--source", "{woman}", "--output", "{tmp}/out.avi"], "--output expects a .mp4 or .mkv file"),
        (["--source", "{woman}", "--output", "{tmp}/out.png"], "it takes a picture --source; for video give"),
        (
            ["--source", "{photo}", "--output", "{tmp}/out.mp4"],
            "is a picture: --output expects an image file",
        ),
        (["--source", "{woman}", "--report", "{tmp}"], "--report expects a file"),
        (["--source", "{woman}", "--blend-device", "cuda"], "--blend-device cuda needs a model running on"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(
    arguments, message, sample_paths, demo_model, tmp_path, capsys
):
    (tmp_path / "notes.txt").write_text("not a video")
    (tmp_path / "garbage.onnx").write_bytes(b"\x00garbage" * 20)
    photo = ensure_samples()["man-photo"]
    filled = [a.format(tmp=tmp_path, woman=sample_paths["woman"], photo=photo) for a in arguments]
    model = [] if "--model" in filled else ["--model", str(demo_model)]
    assert main(["live", *model, *filled]) == 1
    assert message in one_line_error(capsys)


def test_ctrl_c_pressed_three_times_still_exits_130_and_writes_the_report(sample_paths, demo_model, tmp_path):
    report = tmp_path / "r.json"
    command = [sys.executable, "-c", "import sys; from stream.cli import main; sys.exit(main())", "live",
               "--model", str(demo_model), "--source", str(sample_paths["woman"]), "--realtime",
               "--report", str(report), "--stats"]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        assert process.stdout is not None
        for line in process.stdout:  # wait until frames flow: the first once-a-second stats line
            if " fps | latency" in line:
                break
        for _ in range(3):
            process.send_signal(signal.SIGINT)
            time.sleep(0.05)
        process.communicate(timeout=60)
    assert process.returncode == 130
    assert json.loads(report.read_text())


def test_ctrl_c_stops_every_thread_within_two_seconds_and_still_writes_the_report(
    sample_paths, demo_model, capsys, tmp_path
):
    before = set(threading.enumerate())
    report = tmp_path / "r.json"
    timer = threading.Timer(4.0, os.kill, (os.getpid(), signal.SIGINT))  # a real Ctrl-C
    timer.start()
    started = time.monotonic()
    code = main(
        ["live", "--model", str(demo_model), "--source", str(sample_paths["woman"]), "--realtime",
         "--report", str(report)]
    )  # fmt: skip
    stopped = time.monotonic()
    timer.join()
    assert code == 130 and "interrupted" in capsys.readouterr().err
    assert stopped - started < 4.0 + 2.0
    assert set(threading.enumerate()) <= before
    figures = json.loads(report.read_text())
    assert 0 < figures["frames_delivered"] < 472  # the interrupt came while frames were flowing


class FakeGpuSwapper:
    """Stands in for stream.gpu.swapper.CudaSwapper: records the matrices and marks the frame."""

    def __init__(self) -> None:
        self.calls: list[list[np.ndarray]] = []
        self.closed = False

    def __call__(self, frame: np.ndarray, matrices) -> None:
        self.calls.append(list(matrices))
        frame[:4, -4:] = 255

    def close(self) -> None:
        self.closed = True


def test_the_gpu_wiring_skips_the_cpu_crop_and_hands_each_frames_faces_to_the_gpu_stage(
    woman_frames, demo_model
):
    from stream.backends import choose_backend, open_backend
    from stream.live import build_pipeline
    from stream.metrics import RunLog
    from stream.smoothing import OneEuroParams
    from stream.stages import LandmarkStage, video_clock

    backend = open_backend(demo_model, choose_backend(demo_model), quiet)
    landmarks = LandmarkStage(backend.info.align_spec, 1, OneEuroParams(), video_clock(30.0), crop=False)
    blank = np.full_like(woman_frames[0], 90)
    frames = [woman_frames[0], blank, woman_frames[1]]
    sink, gpu, log = KeepingSink(), FakeGpuSwapper(), RunLog()
    options = LiveOptions(model=demo_model, label=False)
    try:
        pipeline = build_pipeline(ListSource([f.copy() for f in frames]), landmarks, backend, [sink],
                                  options=options, log=log, on_delivered=lambda: None, gpu=gpu)  # fmt: skip
        with pipeline:
            pipeline.wait()
    finally:
        landmarks.close()
        backend.close()
    assert [len(matrices) for matrices in gpu.calls] == [1, 1]  # the blank frame has no face: not called
    assert all(matrix.shape == (2, 3) for matrices in gpu.calls for matrix in matrices)
    assert [bool((frame[:4, -4:] == 255).all()) for frame in sink.frames] == [True, False, True]
    assert np.array_equal(sink.frames[1], blank)
    stages = set(log.summary(3, 0).stages)
    assert stages >= {"landmarks", "cuda"} and not {"swap", "blend"} & stages


def test_faces_without_crops_are_refused_by_the_cpu_swap_stage_and_bad_blend_devices_by_the_options(
    woman_frames, demo_model
):
    from stream.packet import FramePacket
    from stream.smoothing import OneEuroParams
    from stream.stages import LandmarkStage, swap_stage, video_clock

    spec = align.AlignSpec("whole_face", 96)
    landmarks = LandmarkStage(spec, 1, OneEuroParams(), video_clock(30.0), crop=False)
    try:
        packet = landmarks(FramePacket(index=0, capture_ns=0, frame=woman_frames[0]))
    finally:
        landmarks.close()
    assert len(packet.faces) == 1 and packet.faces[0].crop is None and packet.faces[0].matrix.shape == (2, 3)
    with pytest.raises(ValueError, match="the swap stage needs the faces' crops"):
        swap_stage(None)(packet)  # refused before the backend is asked
    with pytest.raises(ValueError, match="blend device must be one of auto, cpu, cuda, got 'gpu'"):
        LiveOptions(model=demo_model, blend_device="gpu")


def test_a_truncated_video_says_how_many_of_its_frames_were_read(sample_paths, demo_model, tmp_path, capsys):
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(sample_paths["woman"].read_bytes()[:200_000])
    assert main(["live", "--model", str(demo_model), "--source", str(cut)]) == 0
    err = capsys.readouterr().err
    assert "of the 472 frames its container announces: truncated or damaged" in err
    assert "throughput" in err and "the file was read as fast as possible" in err  # latency is queueing


def test_a_camera_that_disappears_for_three_seconds_is_reconnected_and_the_stream_goes_on(
    woman_frames, demo_model
):
    from bench.end_to_end import LimitedSource
    from stream.capture import CameraSource, CaptureOptions
    from tests.stream.fakes import UnpluggableDevice

    before = set(threading.enumerate())
    frame = woman_frames[0].copy()
    frame[:20, :20] = 210  # a bright corner: about 70 in the dimmed "camera lost" frame
    device = UnpluggableDevice(frame, fps=30.0, reads=30, gone_s=3.0)  # unplugged after a second
    said: list[str] = []
    arrivals: list[tuple[float, bool]] = []  # (time, a real camera frame rather than the "lost" one)

    class TimingSink(KeepingSink):
        def send(self, frame):
            arrivals.append((time.monotonic(), int(frame[5, 5].mean()) > 140))

    camera = CameraSource(0, CaptureOptions(camera_timeout=10), said.append, opener=device.capture)
    with camera, TimingSink() as sink:
        source = LimitedSource(camera, frames=240)
        source.live = True
        run_live(source, [sink], LiveOptions(model=demo_model, label=False), lambda message: None)
    assert any("stopped delivering frames" in line for line in said)
    assert any("is back" in line for line in said)
    assert device.unplugged_at is not None
    outage = [real for t, real in arrivals if device.unplugged_at + 0.5 <= t < device.back_at]
    assert len(outage) > 10 and not any(outage)  # the sinks kept receiving the marked last frame
    first_back = min(t for t, real in arrivals if real and t >= device.back_at)
    assert first_back - device.back_at < 2.0
    assert sum(real for t, real in arrivals if t > first_back) > 10  # real frames flow again
    assert device.opened == device.released  # every capture, dead or alive, released
    assert set(threading.enumerate()) <= before
