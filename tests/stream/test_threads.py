import os
import subprocess
import sys
import time

import pytest

from stream import threads
from stream.cli import main
from stream.threads import export_pool_variables, plan_threads


def test_a_plan_shares_the_cores_and_gives_opencv_one_thread():
    assert plan_threads(2) == threads.ThreadPlan(cores=2, compute=2, opencv=1, inference=1)
    assert plan_threads(2, share=2).compute == 1 and plan_threads(1, share=4).compute == 1
    assert plan_threads(16).inference == 4 and plan_threads(16, share=2).compute == 8
    with pytest.raises(ValueError, match="cores and share"):
        plan_threads(0)


def test_cores_that_other_processes_keep_busy_are_left_to_them():
    assert plan_threads(2, busy=0.3).compute == 2
    assert plan_threads(2, busy=1.2).compute == 1 and plan_threads(2, busy=7.0).compute == 1
    assert plan_threads(16, busy=4.0, share=2).compute == 6


def test_pool_variables_do_not_override_what_the_user_set():
    environment = {"OMP_NUM_THREADS": "3"}
    export_pool_variables(plan_threads(2), environment)
    assert environment["OMP_NUM_THREADS"] == "3" and environment["OPENBLAS_NUM_THREADS"] == "2"


def test_sizing_follows_the_cpu_affinity_and_reaches_torch_and_opencv():
    script = (
        "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})\n"
        "from stream.threads import size_thread_pools\n"
        "plan = size_thread_pools()\n"
        "import cv2, torch\n"
        "print(plan.cores, torch.get_num_threads(), torch.get_num_interop_threads(), cv2.getNumThreads(),"
        " os.environ['OMP_NUM_THREADS'])"
    )
    environment = {key: value for key, value in os.environ.items() if not key.endswith("_NUM_THREADS")}
    printed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=environment
    )
    assert printed.stdout.split() == ["1", "1", "1", "1", "1"]


@pytest.mark.parametrize(
    ("command", "torch_pools"),
    [
        (["train", "--a", "missing-a", "--b", "missing-b", "--out", "run"], None),
        (["live", "--model", "missing.onnx", "--source", "missing.mp4"], False),
        (["bench", "--model", "missing.onnx", "--quick"], None),
        (["eval", "--source", "missing.mp4", "--swapped", "missing.mp4", "--out", "eval"], False),
    ],
)
def test_every_heavy_command_sizes_the_thread_pools_first(command, torch_pools, monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(threads, "size_thread_pools", lambda **kwargs: calls.append(kwargs))
    monkeypatch.chdir(tmp_path)
    assert main(command) != 0  # each then stops on its missing input
    assert len(calls) == 1 and calls[0].get("torch_pools") == torch_pools


def test_the_users_openmp_setting_is_kept():
    script = (
        "from stream.threads import size_thread_pools\n"
        "import torch\n"
        "print(size_thread_pools().compute, torch.get_num_threads())"
    )
    environment = {**os.environ, "OMP_NUM_THREADS": "3"}
    printed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=environment
    )
    assert printed.stdout.split() == ["3", "3"]


def test_busy_cores_sees_a_process_that_keeps_a_core_busy():
    spinning = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        assert threads.busy_cores(window=1.0) > 0.6
    finally:
        spinning.kill()
        spinning.wait()
