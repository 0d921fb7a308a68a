"""Measure swapcam on this machine and write a report: report.md, report.json and PNG plots.

Inference of every backend that can run the model (batch 1 and the max-faces batch), each pipeline stage
alone on real frames, and the real pipeline end to end on the sample clip — as fast as possible and paced
at 30 and 60 fps like a camera — beside a sequential single-thread baseline, with the model's FLOPs and the
camera frame interval as the floor to compare against. The actions measure one thing each: `inference`
(every backend on the model, alone), `training` (training throughput per preset), `threads` (training
under thread plans, idle and beside a busy process), `soak` (memory, threads and files over a long live
run), `ablation` (training-recipe variants judged by `swapcam eval`) and `glass` (photon-to-output latency
with a camera pointed at the screen).

examples:
  swapcam bench --quick --out bench-quick
  swapcam bench --out bench/results/cpu
  swapcam bench --model me2them.onnx --source clip.mp4 --backends onnxruntime
  swapcam bench --preset df256 --frame-size 1280x720 --out bench/results/gpu   (on a CUDA GPU)
  swapcam bench inference --model me2them.onnx
  swapcam bench training --presets lite --seconds 20
  swapcam bench soak --frames 50000
  swapcam bench glass --camera 0 --seconds 20
"""

import argparse
import sys
from pathlib import Path

from stream.choices import BACKENDS


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", type=Path, help=".onnx, .engine or checkpoint (default: the demo model)")
    parser.add_argument(
        "--preset",
        help="time an untrained model of this training preset (lite, df128, df256) instead of --model "
        "(default: --model, or the demo model)",
    )
    parser.add_argument("--source", type=Path, help="video clip (default: the woman's sample clip)")
    parser.add_argument(
        "--frame-size",
        metavar="WxH",
        help="resize the clip's frames to this size first, e.g. 1280x720 (default: the clip's own size)",
    )
    parser.add_argument(
        "--backends",
        default=",".join(BACKENDS),
        help=f"comma-separated subset of {','.join(BACKENDS)} (default: all; those that cannot run the model "
        "are named and skipped)",
    )
    parser.add_argument(
        "--max-faces", type=int, default=2, help="the second inference batch size (default 2)"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("bench-report"), help="report folder (default bench-report)"
    )
    parser.add_argument("--quick", action="store_true", help="small budgets and 60 frames: under a minute")
    actions = parser.add_subparsers(
        dest="action", metavar="[ACTION]", title="optional action (default: the whole report)", required=False
    )
    _configure_actions(actions)
    glass = actions.add_parser("glass", help="photon-to-output latency: camera pointed at the screen")
    glass.add_argument("--camera", type=int, required=True, metavar="N", help="camera index")
    glass.add_argument(
        "--model", dest="action_model", type=Path, help="model (default: --model, or the demo)"
    )
    glass.add_argument("--seconds", type=float, default=10.0, help="how long to measure (default 10)")
    glass.add_argument(
        "--backend", choices=("auto", *BACKENDS), default="auto", help="inference backend (default auto)"
    )
    glass.add_argument("--width", type=int, help="requested camera frame width (default: the camera's)")
    glass.add_argument("--height", type=int, help="requested camera frame height (default: the camera's)")
    glass.add_argument("--fps", type=float, help="requested camera frame rate (default: the camera's)")


# action → the module whose run(args) carries it out (imported only then: `bench --help` loads no torch)
ACTIONS = {
    "inference": "bench.inference_runs",
    "training": "bench.training",
    "threads": "bench.thread_plans",
    "soak": "bench.soak",
    "ablation": "bench.ablation",
}
SIZE_THEIR_OWN = frozenset({"threads", "soak"})  # they compare thread plans, or size as `swapcam live` does
RESULTS = Path(__file__).resolve().parent / "results"


def _configure_actions(actions: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """The options of each action; ``--model`` and ``--out`` have their own names here (``action_model``,
    ``action_out``) so the report's options of the same name keep their values."""
    inference = actions.add_parser("inference", help="every backend on the model alone, batch 1 and 2")
    inference.add_argument("--model", dest="action_model", type=Path, help="model (default: the demo)")
    inference.add_argument(
        "--seconds", type=float, default=3.0, help="at least this long per backend and batch (default 3)"
    )
    inference.add_argument(
        "--out", dest="action_out", type=Path, help="also write the results as JSON here (default: none)"
    )
    training = actions.add_parser("training", help="training throughput per preset, real steps")
    training.add_argument(
        "--presets", nargs="+", default=["lite", "df128", "df256"], help="presets (default: all three)"
    )
    training.add_argument(
        "--device", choices=("auto", "cpu", "cuda"), default="auto", help="where to train (default auto)"
    )
    training.add_argument("--seconds", type=float, default=20.0, help="at least this long each (default 20)")
    training.add_argument(
        "--min-steps", type=int, default=5, help="at least this many steps each (default 5)"
    )
    training.add_argument(
        "--augment-on",
        nargs="+",
        choices=("cpu", "device"),
        help="where batches are augmented (default: cpu and device on a GPU, else cpu)",
    )
    training.add_argument(
        "--out",
        dest="action_out",
        type=Path,
        help="the JSON report (default: bench/results/training-cpu.json, or -gpu)",
    )
    threads = actions.add_parser("threads", help="training throughput under thread plans, idle and loaded")
    threads.add_argument("--seconds", type=float, default=15.0, help="per plan (default 15)")
    threads.add_argument(
        "--out",
        dest="action_out",
        type=Path,
        default=RESULTS / "thread-plans-cpu.json",
        help="the JSON report (default: bench/results/thread-plans-cpu.json)",
    )
    threads.add_argument("--child", help=argparse.SUPPRESS)
    soak = actions.add_parser("soak", help="memory, threads and open files over a long live run")
    soak.add_argument("--frames", type=int, default=50_000, help="frames to run (default 50000)")
    soak.add_argument("--every", type=int, default=1000, help="sample every N frames (default 1000)")
    soak.add_argument("--model", dest="action_model", type=Path, help="model (default: the demo model)")
    soak.add_argument(
        "--out",
        dest="action_out",
        type=Path,
        default=RESULTS / "soak-cpu.json",
        help="the JSON report (default: bench/results/soak-cpu.json)",
    )
    ablation = actions.add_parser("ablation", help="training-recipe variants, each judged by swapcam eval")
    ablation.add_argument("--a", required=True, type=Path, help="extract folder of identity A")
    ablation.add_argument("--b", required=True, type=Path, help="extract folder of identity B")
    ablation.add_argument(
        "--out", dest="action_out", required=True, type=Path, help="one run folder per variant is made here"
    )
    ablation.add_argument("--steps", type=int, default=1200, help="steps per variant (default 1200)")
    ablation.add_argument("--batch", type=int, default=8, help="batch per identity (default 8)")
    ablation.add_argument("--lr", type=float, default=3e-4, help="learning rate (default 3e-4)")
    ablation.add_argument("--every", type=int, default=4, help="judge every N-th frame (default 4)")
    ablation.add_argument(
        "--variants", nargs="+", help="variants to run (default: all; see bench/ablation.py)"
    )


def run(args: argparse.Namespace) -> int:
    from stream.threads import size_thread_pools

    if args.action not in SIZE_THEIR_OWN:
        size_thread_pools()
    if args.action == "glass":
        return _glass(args)
    if args.action in ACTIONS:
        import importlib

        return int(importlib.import_module(ACTIONS[args.action]).run(args))
    from tqdm import tqdm

    from bench.report import headline, write_report
    from bench.suite import STEPS, BenchOptions, run_bench
    from stream.errors import SwapcamError

    backends = frozenset(name.strip() for name in args.backends.split(",") if name.strip())
    if not backends or backends - set(BACKENDS):
        raise SwapcamError(f"--backends expects a subset of {','.join(BACKENDS)}, got {args.backends!r}")
    if args.source is not None and not args.source.is_file():
        raise SwapcamError(f"--source expects a video file, {args.source} is not one")
    if args.preset and args.model:
        raise SwapcamError("--preset and --model each choose the model: give one of them")
    from stream.paths import Given, Output, check_paths

    named = (("--model", args.model), ("--source", args.source))
    check_paths(
        [Given(option, path) for option, path in named if path is not None],
        [Output("--out", args.out, folder=True, names=("report.json", "report.md"))],
    )
    model, checkpoint = _preset(args.preset) if args.preset else _model(args.model)
    from bench.inference_runs import skipped

    notes = skipped(model, checkpoint, set(backends))
    if len(notes) == len(backends):
        raise SwapcamError(
            f"no backend of --backends {args.backends} can time {model.name}: {'; '.join(notes)}"
        )
    source = args.source or _woman()
    if args.frame_size:
        from bench.models import resized_clip

        source = resized_clip(source, *_frame_size(args.frame_size))
    try:
        options = BenchOptions(model=model, checkpoint=checkpoint, source=source,
                               backends=backends, max_faces=args.max_faces, quick=args.quick)  # fmt: skip
    except ValueError as error:
        raise SwapcamError(str(error)) from error
    with tqdm(total=STEPS, unit="step", file=sys.stderr, bar_format="{n}/{total} {desc}") as bar:

        def step(what: str) -> None:
            bar.set_description_str(what)
            bar.update(1)

        report = run_bench(options, step)
    for path in write_report(report, args.out):
        print(path)
    for line in headline(report.to_json()):
        print(f"swapcam bench: {line}", file=sys.stderr)
    return 0


def _woman() -> Path:
    from stream.samples import ensure_samples

    return ensure_samples()["woman"]


def _frame_size(text: str) -> tuple[int, int]:
    from stream.errors import SwapcamError

    width, _, height = text.lower().partition("x")
    if not (width.isdigit() and height.isdigit() and 16 <= int(width) <= 7680 and 16 <= int(height) <= 4320):
        raise SwapcamError(f"--frame-size expects WIDTHxHEIGHT such as 1280x720, got {text!r}")
    return int(width), int(height)


def _preset(preset: str) -> tuple[Path, Path]:
    from bench.models import untrained_checkpoint
    from trained.demo import CHECKPOINT

    path = untrained_checkpoint(preset, CHECKPOINT)
    return path, path


def _model(model: Path | None) -> tuple[Path, Path | None]:
    from bench.models import model_and_checkpoint

    return model_and_checkpoint(model, lambda message: print(message, file=sys.stderr))


def _glass(args: argparse.Namespace) -> int:
    from bench.glass import format_glass, run_glass
    from stream.capture import CaptureOptions
    from stream.errors import SwapcamError

    try:
        capture = CaptureOptions(width=args.width, height=args.height, fps=args.fps)
    except ValueError as error:
        raise SwapcamError(str(error)) from error
    model, _ = _model(args.action_model or args.model)
    figures = run_glass(
        args.camera,
        model,
        args.seconds,
        backend=args.backend,
        capture=capture,
        say=lambda message: print(f"swapcam bench glass: {message}", file=sys.stderr, flush=True),
    )
    print(format_glass(figures.counts))
    return 0
