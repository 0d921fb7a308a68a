"""Judge a swap objectively: who the output looks like, whether it keeps the input's expression, how much it
flickers, and whether faces get lost — by an independent face recogniser (dlib) and FaceMesh landmarks.

Give a model (it swaps --source first, every frame, nothing dropped) or an already swapped clip. Without
either, the shipped demo model is judged on the woman's sample clip. Identity A is the unswapped --source;
B is --reference-b (default: the man's sample clip). Yardsticks beside the output's figures: the unswapped
input, B's own faces, another photo of B (--photo-b) and strangers (--strangers).

Writes DIR/report.md, DIR/report.json and DIR/contact.png (input above output for a spread of frames).

examples:
  swapcam eval --out out/eval
  swapcam eval --model runs/me2them --source me.mp4 --reference-b them.mp4 --out out/eval
  swapcam eval --source me.mp4 --swapped swapped.mp4 --reference-b them/ --out out/eval
"""

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from stream.commands.blend_args import add_blend_arguments, blend_options

if TYPE_CHECKING:
    from bench.eval_flow import EvalInputs


REPORT_FILES = ("report.md", "report.json", "contact.png")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, type=Path, help="report folder (created if missing)")
    parser.add_argument("--source", type=Path, help="the unswapped clip of A (default: the woman's sample)")
    given = parser.add_mutually_exclusive_group()
    given.add_argument("--model", type=Path, help="model to swap --source with (default: the demo model)")
    given.add_argument("--swapped", type=Path, help="--source already swapped, frame for frame")
    parser.add_argument(
        "--reference-b",
        type=Path,
        nargs="+",
        help="B's faces: clips, images or folders (default: man's clip)",
    )
    parser.add_argument(
        "--reference-a", type=Path, nargs="+", help="A's faces (default: the faces of --source)"
    )
    parser.add_argument("--photo-b", type=Path, help="another photo of B (default: the man's sample photo)")
    parser.add_argument(
        "--strangers", type=Path, nargs="+", help="faces of neither (default: the sample strangers)"
    )
    parser.add_argument("--every", type=int, default=1, help="judge every N-th frame (default 1: all)")
    add_blend_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from stream.errors import SwapcamError
    from stream.threads import size_thread_pools

    if args.every < 1:
        raise SwapcamError(f"--every must be at least 1, got {args.every}")
    blend = blend_options(args)
    size_thread_pools(torch_pools=False)
    inputs = replace(_inputs(args), blend=blend)
    _check_paths(args, inputs)
    from bench.eval_flow import evaluate_swap
    from bench.eval_report import figure_text

    summary = evaluate_swap(inputs, args.out, every=args.every, say=_say)
    for name, (value, bar, met) in summary.checks().items():
        _say(f"{name}: {figure_text(value)} (target {bar}) {'met' if met else 'NOT met'}")
    _say(f"report: {args.out / 'report.md'}")
    return 0


def _say(message: str) -> None:
    print(f"swapcam eval: {message}", file=sys.stderr, flush=True)


def _inputs(args: argparse.Namespace) -> "EvalInputs":
    from dataclasses import replace

    inputs = default_inputs(source=args.source, model=args.model, swapped=args.swapped)
    return replace(
        inputs,
        reference_a=args.reference_a,
        reference_b=args.reference_b or inputs.reference_b,
        photo_b=args.photo_b or (inputs.photo_b if args.reference_b is None else None),
        strangers=args.strangers or inputs.strangers,
    )


def default_inputs(
    *, source: Path | None = None, model: Path | None = None, swapped: Path | None = None
) -> "EvalInputs":
    """The demo pair's references: the man's clip and photo, the sample strangers; source: the woman."""
    from bench.eval_flow import EvalInputs
    from stream.samples import STRANGERS, cache_dir, ensure_samples

    samples = ensure_samples()
    return EvalInputs(
        cache=cache_dir() / "eval-faces",
        source=source or samples["woman"],
        model=model,
        swapped=swapped,
        reference_a=None,
        reference_b=[samples["man"]],
        photo_b=samples["man-photo"],
        strangers=[samples[name] for name in STRANGERS],
    )


def _check_paths(args: argparse.Namespace, inputs: "EvalInputs") -> None:
    """Every input readable and the report folder writable and apart from them, before any work."""
    from stream.paths import Given, Output, check_paths

    given = [inputs.source, *inputs.reference_b, *inputs.strangers, *(inputs.reference_a or [])]
    given += [path for path in (inputs.model, inputs.swapped, inputs.photo_b) if path is not None]
    check_paths(
        [Given("input", path) for path in given],
        [Output("--out", args.out, folder=True, names=REPORT_FILES)],
    )
    if inputs.swapped is not None and inputs.swapped.is_file():
        _check_lengths(inputs.source, inputs.swapped)


def _check_lengths(source: Path, swapped: Path) -> None:
    """Clips whose containers announce different frame counts are not a swap of one another. Some
    containers count one frame too many; clips that announce no count are checked while they are read."""
    from stream.errors import SwapcamError
    from stream.media import video_frame_count

    counts = video_frame_count(source), video_frame_count(swapped)
    if all(counts) and abs(counts[0] - counts[1]) > 1:
        raise SwapcamError(
            f"--swapped {swapped} ({counts[1]} frames) and --source {source} ({counts[0]} frames) differ in "
            "length: expected one swapped frame per source frame"
        )
