"""Measure swapcam on this machine and write a report: report.md, report.json and PNG plots.

Inference of every backend that can run the model (batch 1 and the max-faces batch), each pipeline stage
alone on real frames, and the real pipeline end to end on the sample clip — as fast as possible and paced
at 30 and 60 fps like a camera — beside a sequential single-thread baseline, with the model's FLOPs and the
camera frame interval as the floor to compare against. `glass` measures photon-to-output latency with a
camera pointed at the screen.

examples:
  swapcam bench --quick --out bench-quick
  swapcam bench --out bench/results/cpu
  swapcam bench --model me2them.onnx --source clip.mp4 --backends onnxruntime
  swapcam bench --preset df256 --frame-size 1280x720 --out bench/results/gpu   (on a CUDA GPU)
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
    actions = parser.add_subparsers(dest="action", metavar="[glass]", title="optional action", required=False)
    glass = actions.add_parser("glass", help="photon-to-output latency: camera pointed at the screen")
    glass.add_argument("--camera", type=int, required=True, metavar="N", help="camera index")
    glass.add_argument("--model", dest="glass_model", type=Path, help="model (default: --model, or the demo)")
    glass.add_argument("--seconds", type=float, default=10.0, help="how long to measure (default 10)")
    glass.add_argument(
        "--backend", choices=("auto", *BACKENDS), default="auto", help="inference backend (default auto)"
    )
    glass.add_argument("--width", type=int, help="requested camera frame width (default: the camera's)")
    glass.add_argument("--height", type=int, help="requested camera frame height (default: the camera's)")
    glass.add_argument("--fps", type=float, help="requested camera frame rate (default: the camera's)")


def run(args: argparse.Namespace) -> int:
    from stream.threads import size_thread_pools

    size_thread_pools()
    if args.action == "glass":
        return _glass(args)
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
    for line in headline(report):
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
    """(the model the pipeline runs, the checkpoint of the same weights for the torch backend, if known)."""
    if model is None:
        from stream.backends import demo_model
        from trained.demo import CHECKPOINT

        return demo_model(lambda message: print(message, file=sys.stderr)), CHECKPOINT
    from stream.backends import is_checkpoint

    return model, model if is_checkpoint(model) else None


def _glass(args: argparse.Namespace) -> int:
    from bench.glass import format_glass, run_glass
    from stream.capture import CaptureOptions
    from stream.errors import SwapcamError

    try:
        capture = CaptureOptions(width=args.width, height=args.height, fps=args.fps)
    except ValueError as error:
        raise SwapcamError(str(error)) from error
    model, _ = _model(args.glass_model or args.model)
    figures = run_glass(
        args.camera,
        model,
        args.seconds,
        backend=args.backend,
        capture=capture,
        say=lambda message: print(f"swapcam bench glass: {message}", file=sys.stderr, flush=True),
    )
    print(format_glass(figures))
    return 0
