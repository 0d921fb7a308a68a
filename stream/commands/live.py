"""Swap faces live: camera or file → landmarks → model → blend → virtual webcam, preview window, file.

Without --model the shipped demo model runs (exported to ONNX into the cache on first use). Output frames
carry a small "AI-modified" label unless --no-label is given: tell the people you call.

examples:
  swapcam live --camera 0 --vcam --preview --stats
  swapcam live --model me2them.onnx --camera 0 --vcam --width 1280 --height 720 --fps 30
  swapcam live --source clip.mp4 --output swapped.mp4 --report latency.json
  swapcam live --source clip.mp4 --realtime --preview
  swapcam live --model Celebrity.dfm --camera 0 --vcam
"""

import argparse
import json
import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from stream.choices import BACKEND_CHOICES, BLEND_DEVICES
from stream.commands.blend_args import add_blend_arguments, blend_options

if TYPE_CHECKING:
    from stream.capture import Source
    from stream.controls import LiveControls
    from stream.metrics import RunFigures
    from stream.sinks import Sink


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        type=Path,
        help=".onnx, DeepFaceLab/DeepFaceLive .dfm, .engine, checkpoint .pt or run folder (default: demo)",
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--camera", type=int, metavar="N", help="camera index (/dev/videoN on Linux)")
    where.add_argument("--source", metavar="PATH_OR_URL", help="video file, image folder or stream URL")
    parser.add_argument(
        "--width", type=int, help="camera: requested frame width, 1 or more pixels (default: the camera's)"
    )
    parser.add_argument(
        "--height", type=int, help="camera: requested frame height, 1 or more pixels (default: the camera's)"
    )
    parser.add_argument(
        "--fps",
        type=float,
        help="camera: requested frame rate, above 0 and up to 1000 (default: the camera's); image folder: "
        "the rate its images stand for (default 30)",
    )
    parser.add_argument(
        "--camera-timeout",
        type=float,
        metavar="SECONDS",
        help="camera: how long a lost camera (unplugged, taken by another app) is reopened before the run "
        "ends, above 0 and up to 3600 (default 30); meanwhile its last frame is sent, marked 'camera lost'",
    )
    parser.add_argument(
        "--realtime", action="store_true", help="file: read at its own frame rate, like a camera"
    )
    parser.add_argument("--vcam", action="store_true", help="send frames to a virtual webcam (pyvirtualcam)")
    parser.add_argument(
        "--vcam-device", help="virtual webcam device, e.g. /dev/video10 (default: first free)"
    )
    parser.add_argument(
        "--preview",
        action="store_true",
        help="show a preview window: q or Esc quits, h lists the keys that change the swap as it runs",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="record the output to a .mp4 or .mkv file (H.264, with the source file's sound), or, for a "
        "picture --source, write the swapped picture (.png, .jpg, ...)",
    )
    parser.add_argument(
        "--backend", choices=BACKEND_CHOICES, default="auto", help="inference backend (default auto)"
    )
    parser.add_argument(
        "--blend-device",
        choices=BLEND_DEVICES,
        default="auto",
        help="where faces are cropped and pasted back (default auto: on the GPU when the model runs on CUDA)",
    )
    parser.add_argument(
        "--morph",
        type=float,
        help=".dfm models with a morph input (AMP): how far the face leans toward the target, 0..1 "
        "(default 0.75, as in DeepFaceLive)",
    )
    parser.add_argument("--max-faces", type=int, default=1, help="faces swapped per frame, 1..8 (default 1)")
    parser.add_argument("--no-label", action="store_true", help="do not draw the 'AI-modified' label")
    parser.add_argument(
        "--no-occlusion",
        action="store_true",
        help="paste the face over hands in front of it too (saves the hand detector's time per frame)",
    )
    parser.add_argument("--overlay", action="store_true", help="draw fps and latency on the output")
    parser.add_argument("--stats", action="store_true", help="print fps, latency and drops once per second")
    parser.add_argument(
        "--report", type=Path, help="write the run's latency figures to this JSON file (default: none)"
    )
    add_blend_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from stream.threads import size_thread_pools

    size_thread_pools(torch_pools=False)  # torch, when a checkpoint runs, is sized by its backend
    from stream.capture import CaptureOptions, open_source
    from stream.cli import EXIT_INTERRUPTED
    from stream.controls import LiveControls, LiveSettings
    from stream.errors import SwapcamError
    from stream.live import LiveOptions, run_live
    from stream.sinks import PreviewSink

    def say(message: str) -> None:
        print(f"swapcam live: {message}", file=sys.stderr, flush=True)

    _check_paths(args)
    blend = blend_options(args)
    model = args.model if args.model is not None else _demo_model(say)
    try:
        options = LiveOptions(
            model=model,
            backend=args.backend,
            max_faces=args.max_faces,
            blend_device=args.blend_device,
            morph=args.morph,
            label=not args.no_label,
            occlusion=not args.no_occlusion,
            overlay=args.overlay,
            stats=args.stats,
            blend=blend,
        )
        capture = CaptureOptions(
            width=args.width,
            height=args.height,
            fps=args.fps,
            realtime=args.realtime,
            camera_timeout=args.camera_timeout,
        )
    except ValueError as error:
        raise SwapcamError(str(error)) from error
    with ExitStack() as stack:
        source = stack.enter_context(open_source(args.camera, args.source, capture, say))
        say(f"source {source.describe()}")
        controls = LiveControls(LiveSettings(overlay=options.overlay, blend=options.blend))
        sinks = _open_sinks(args, source, say, stack, controls)
        progress = _progress_bar(source, args, stack)
        previews = [sink.pump for sink in sinks if isinstance(sink, PreviewSink)]
        result = run_live(
            source,
            sinks,
            options,
            say,
            progress=progress,
            idle=previews[0] if previews else None,
            controls=controls if previews else None,
        )
    summary = _summary_line(result.figures, result.backend, paced=source.live or args.realtime)
    say(("interrupted: " if result.interrupted else "") + summary)
    if args.report is not None:
        _write_report(
            args.report, model, args.source or f"camera {args.camera}", result.backend, result.figures
        )
        say(f"report written to {args.report}")
    return EXIT_INTERRUPTED if result.interrupted else 0


def _check_paths(args: argparse.Namespace) -> None:
    """Refuse unreadable inputs and outputs that cannot be written or would replace an input, before
    anything is opened or run."""
    from stream.errors import SwapcamError
    from stream.media import IMAGE_SUFFIXES
    from stream.paths import Given, Output, check_paths
    from stream.sinks import FILE_CODECS

    if args.output is not None:
        picture_in = args.source is not None and Path(args.source).suffix.lower() in IMAGE_SUFFIXES
        picture_out = args.output.suffix.lower() in IMAGE_SUFFIXES
        if picture_in and not picture_out:
            raise SwapcamError(
                f"--source {Path(args.source).name} is a picture: --output expects an image file "
                f"({' '.join(sorted(IMAGE_SUFFIXES))}), got {args.output.name!r}"
            )
        if picture_out and not picture_in:
            raise SwapcamError(
                f"--output {args.output.name} is a picture: it takes a picture --source; for video give a "
                f"{' or '.join(FILE_CODECS)} file"
            )
        if not picture_out and args.output.suffix.lower() not in FILE_CODECS:
            raise SwapcamError(
                f"--output expects a {' or '.join(FILE_CODECS)} file, got {args.output.name!r}"
            )
    inputs = [] if args.model is None else [Given("--model", args.model)]
    if args.source is not None and "://" not in args.source:  # a file or folder, not a stream URL
        if not Path(args.source).exists():
            from stream.capture import missing_source

            raise SwapcamError(missing_source(args.source))
        inputs.append(Given("--source", Path(args.source)))
    named = (("--output", args.output), ("--report", args.report))
    check_paths(inputs, [Output(option, path) for option, path in named if path is not None])


def _demo_model(say: Callable[[str], None]) -> Path:
    # The one path of `swapcam live` that imports torch: turning the shipped checkpoint into ONNX, once.
    from stream.backends import demo_model
    from stream.errors import SwapcamError

    try:
        return demo_model(say)
    except ModuleNotFoundError as error:
        if error.name != "torch":
            raise
        raise SwapcamError(
            "the demo model is exported to ONNX on first use, which needs torch: "
            "pip install 'swapcam[train]', or give --model with an .onnx or .dfm file"
        ) from error


def _open_sinks(
    args: argparse.Namespace,
    source: "Source",
    say: Callable[[str], None],
    stack: ExitStack,
    controls: "LiveControls",
) -> list["Sink"]:
    """Open the sinks asked for, each owned by ``stack`` at once: a later failure closes earlier ones."""
    from stream.sinks import NullSink, PreviewSink, VirtualCameraSink

    width, height = source.size
    openers: list[Callable[[], Sink]] = []
    if args.vcam:
        openers.append(lambda: VirtualCameraSink(width, height, source.fps, device=args.vcam_device))
    if args.preview:
        openers.append(lambda: PreviewSink("swapcam", on_key=controls.key))
    if args.output is not None:
        openers.append(lambda: _file_sink(args.output, source, say))
    if not openers:
        say("no --vcam, --preview or --output: frames are only measured, not shown or kept")
        openers.append(NullSink)
    sinks = [stack.enter_context(open_sink()) for open_sink in openers]
    for sink in sinks:
        say(f"sink {sink.describe()}")
    return sinks


def _file_sink(path: Path, source: "Source", say: Callable[[str], None]) -> "Sink":
    """A picture for a picture; H.264 with the source's sound where PyAV can write it, else OpenCV's
    MPEG-4 part 2 (which browsers do not play) and a word saying so."""
    from stream.capture import VideoFileSource
    from stream.media import IMAGE_SUFFIXES
    from stream.sinks import FileSink, ImageFileSink

    if path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageFileSink(path)
    try:
        from stream.encode import EncodedFileSink, encoder_available
    except ImportError:  # PyAV is not installed
        available = False
    else:
        available = encoder_available()
    if available:
        sound = source.path if isinstance(source, VideoFileSource) else None
        return EncodedFileSink(path, source.fps, source.size, audio_from=sound)
    say(
        "warning: PyAV with an H.264 encoder is not installed (pip install av): writing OpenCV's MPEG-4 "
        "part 2 without sound, which browsers and many players do not play"
    )
    return FileSink(path, source.fps, source.size)


def _progress_bar(source: "Source", args: argparse.Namespace, stack: ExitStack) -> Callable[[], None] | None:
    """A progress bar for files read as fast as possible; live sources and --stats runs print no bar."""
    if source.live or args.stats or source.frame_count is None or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar = stack.enter_context(tqdm(total=source.frame_count, unit="frame", desc="swapping"))
    return lambda: bar.update(1)


def _summary_line(figures: "RunFigures", backend: str, paced: bool) -> str:
    """Throughput and latency, apart: a file read as fast as possible queues frames in front of the slowest
    stage, so its capture→sink latency is queueing, not what a camera would see."""
    line = (
        f"{figures.frames_delivered} frames, {figures.frames_with_faces} with a face, "
        f"{figures.frames_dropped} dropped ({backend}); throughput {figures.fps} fps; "
        f"capture→sink latency p50 {figures.latency.p50} ms"
    )
    if paced:
        return line
    return line + " (frames queued: the file was read as fast as possible; --realtime gives a camera's)"


def _write_report(path: Path, model: Path, source: str, backend: str, figures: "RunFigures") -> None:
    from stream.errors import SwapcamError
    from stream.files import atomic_output
    from stream.machine import machine
    from stream.version import version

    report = {
        "swapcam": version(),
        "model": str(model),
        "source": source,
        "backend": backend,
        "machine": machine(),
        **figures.to_json(),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(path) as part:
            part.write_text(json.dumps(report, indent=2) + "\n")
    except OSError as error:
        raise SwapcamError(f"cannot write the report {path}: {error.strerror or error}") from error
