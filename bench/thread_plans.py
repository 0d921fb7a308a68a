"""Training throughput under different thread plans, on an idle machine and beside a CPU-heavy process.

    swapcam bench threads [--seconds 15] [--out bench/results/thread-plans-cpu.json]

Each plan runs real `lite` training steps (96 px, batch 8, augmentation included) in a fresh process, because
OpenMP reads its settings once, when it loads. Plans: the libraries' defaults (torch and OpenCV as wide as
the machine), ``stream.threads``'s plan (what `swapcam train` applies), and one compute thread. "Loaded"
runs start a competing process first that keeps one core busy with matrix products, as a second training
run or a video call would. All plans run in one invocation, so their ratios are comparable.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from stream.threads import busy_cores

RESULTS = Path(__file__).resolve().parent / "results"
PLANS = ("defaults", "sized", "one thread")


def _apply(plan: str) -> None:
    """Runs in the child before torch and OpenCV load."""
    from stream.threads import size_thread_pools

    if plan == "sized":
        size_thread_pools()
    elif plan == "one thread":
        os.environ["OMP_NUM_THREADS"] = "1"
        import torch

        torch.set_num_threads(1)
        size_thread_pools(share=os.cpu_count() or 1)


def child(plan: str, seconds: float) -> dict[str, float]:
    _apply(plan)
    import tempfile

    import torch

    from bench.training import extracted_sample_clips
    from trained.session import TrainOptions, open_session, train_step

    faces = extracted_sample_clips()
    options = TrainOptions(preset="lite", batch=8, steps=1, device="cpu")
    durations: list[float] = []
    with tempfile.TemporaryDirectory() as run:
        session, _ = open_session(faces["woman"], faces["man"], Path(run), options, resume=False)
        with session:
            for _ in range(3):
                train_step(session, options)
            while sum(durations) < seconds or len(durations) < 10:
                start = time.perf_counter()
                train_step(session, options)
                durations.append(time.perf_counter() - start)
    ms = np.array(durations) * 1000
    return {
        "torch_threads": torch.get_num_threads(),
        "steps": len(durations),
        "samples_per_second": 2 * options.batch * len(durations) / sum(durations),
        "step_ms_p50": float(np.percentile(ms, 50)),
        "step_ms_p95": float(np.percentile(ms, 95)),
    }


def _competitor() -> subprocess.Popen[bytes]:
    """A process that keeps one core busy until killed."""
    code = (
        "import os; os.environ['OMP_NUM_THREADS'] = '1'\n"
        "import numpy as np\n"
        "a = np.random.rand(400, 400)\n"
        "while True: a = (a @ a) / 400.0 + 0.1\n"
    )
    return subprocess.Popen([sys.executable, "-c", code])


def measure(plan: str, seconds: float) -> dict[str, object]:
    command = [sys.executable, "-c", "import sys; from stream.cli import main; sys.exit(main())",
               "bench", "threads", "--child", plan, "--seconds", str(seconds)]  # fmt: skip
    environment = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=environment)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _row(result: dict[str, object]) -> str:
    other = "one busy core" if result["loaded"] else "none"
    return (
        f"| {result['plan']} | {other} | {result['torch_threads']} | {result['samples_per_second']:.1f} | "
        f"{result['step_ms_p50']:.0f} | {result['step_ms_p95']:.0f} |"
    )


def run(args: argparse.Namespace) -> int:
    """`swapcam bench threads` (options: ``bench.command``); ``--child PLAN`` is one plan's own process."""
    if args.child:
        print(json.dumps(child(args.child, args.seconds)))
        return 0
    from bench.machine import machine

    results = []
    print("| plan | other process | torch threads | samples/s | step p50 ms | step p95 ms |")
    print("|---|---|---|---|---|---|")
    for loaded in (False, True):
        competitor = _competitor() if loaded else None
        try:
            time.sleep(2.0 if loaded else 0.0)  # the competitor gets going
            load = busy_cores()
            for plan in PLANS:
                result = {
                    "plan": plan,
                    "loaded": loaded,
                    "busy_cores": round(load, 2),
                    **measure(plan, args.seconds),
                }
                results.append(result)
                print(_row(result), flush=True)
        finally:
            if competitor is not None:
                competitor.kill()
                competitor.wait()
    args.action_out.parent.mkdir(parents=True, exist_ok=True)
    args.action_out.write_text(json.dumps({"machine": machine(), "results": results}, indent=2))
    print(f"wrote {args.action_out}")
    return 0
