"""Native libraries' routine log lines stay off the terminal; errors and swapcam's own lines do not."""

import os
import subprocess
import sys

import pytest

from stream.native_logs import NativeLogFilter, is_chatter, quiet_environment

# As MediaPipe, TensorFlow Lite, OpenCV and FFmpeg print them (from the issue that asked for quiet)
CHATTER = [
    "W0000 00:00:1796052792.333355   20309 inference_feedback_manager.cc:114] Feedback manager requires a "
    "model with a single signature inference. Disabling support for feedback tensors.",
    "W0000 00:00:1796047635.987131    1791 landmark_projection_calculator.cc:186] Using NORM_RECT without "
    "IMAGE_DIMENSIONS is only supported for the square ROI.",
    "I0000 00:00:1796047635.971747    1791 gl_context.cc:357] GL version: 2.1",
    "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "[ WARN:0@2.142] global cap_v4l.cpp:913 open VIDEOIO(V4L2:/dev/video0): can't open camera by index",
    "[tcp @ 0x55d5c1e0a2c0] Connection to tcp://127.0.0.1:9 failed: Connection refused",
]
ERRORS = [
    "E0000 00:00:1796052792.333355   20309 calculator_graph.cc:887] INTERNAL: the graph failed",
    "F0000 00:00:1796052792.333355   20309 packet.cc:12] Check failed: fatal",
    "[ERROR:0@0.412] global persistence.cpp:505 open Can't open file",
    "Segmentation fault (core dumped)",
    "swapcam live: error: no such file or folder: x",
    "Traceback (most recent call last):",
]


@pytest.mark.parametrize("line", CHATTER)
def test_routine_native_lines_are_chatter(line):
    assert is_chatter(line)


@pytest.mark.parametrize("line", ERRORS)
def test_errors_and_swapcams_lines_are_not(line):
    assert not is_chatter(line)


def test_quiet_environment_keeps_what_the_user_set():
    environment = {"OPENCV_LOG_LEVEL": "DEBUG"}
    quiet_environment(environment)
    assert environment["OPENCV_LOG_LEVEL"] == "DEBUG" and environment["GLOG_minloglevel"] == "2"


def test_the_filter_drops_chatter_written_to_descriptor_2_and_passes_the_rest(capfd):
    text = "\n".join([CHATTER[0], ERRORS[0], CHATTER[3], "a line of its own", CHATTER[5]]) + "\nno newline"
    with NativeLogFilter():
        sys.stderr.write("python's own line\n")  # one write, before the native ones: no interleaving
        sys.stderr.flush()
        os.write(2, text.encode())
    assert capfd.readouterr().err.splitlines() == [
        "python's own line",  # sys.stderr is not descriptor 2 under capfd: untouched, and written first
        ERRORS[0],
        "a line of its own",
        "no newline",
    ]
    os.write(2, (CHATTER[0] + "\n").encode())  # closed: descriptor 2 is the terminal again
    assert capfd.readouterr().err == CHATTER[0] + "\n"


def test_swapcam_live_writes_only_its_own_lines_to_stderr(sample_paths, demo_model, tmp_path):
    command = [sys.executable, "-c", "import sys; from stream.cli import main; sys.exit(main())", "live",
               "--model", str(demo_model), "--source", str(sample_paths["man"]),
               "--output", str(tmp_path / "out.mp4")]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) >= 4 and all(line.startswith("swapcam live: ") for line in lines), lines
    verbose = subprocess.run(
        [*command, "--verbose"], capture_output=True, text=True, check=False, timeout=300
    )
    assert any(is_chatter(line) for line in verbose.stderr.splitlines())  # the lines exist; quiet hides them
