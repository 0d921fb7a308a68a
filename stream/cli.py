"""The ``swapcam`` command: a thin dispatcher.

Each subcommand lives in a module with ``configure(parser)`` and ``run(args) -> int``; the module is
imported only when its subcommand runs, so ``swapcam live`` never pays for torch. User mistakes arrive as
``SwapcamError`` and become one line on stderr and a non-zero exit code.

The table below names modules of every package by string: the entry point is the one place that knows them
all, and it imports none of them until its command runs (the import rule between packages is otherwise kept).
"""

import argparse
import contextlib
import importlib
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from types import MappingProxyType

from stream.errors import SwapcamError
from stream.native_logs import NativeLogFilter, quiet_environment
from stream.version import version

# name → (module, one-line summary shown by `swapcam --help`)
COMMANDS = MappingProxyType(
    {
        "samples": (
            "stream.commands.samples",
            "fetch the sample face clips into the cache and print their paths",
        ),
        "extract": (
            "stream.commands.extract",
            "find faces in videos, images and folders and save aligned crops",
        ),
        "live": (
            "stream.commands.live",
            "swap faces live: camera or file → model → virtual webcam, preview, file",
        ),
        "doctor": (
            "stream.commands.doctor",
            "what this machine has: runtimes, GPUs, cameras, virtual cameras; which backend auto picks",
        ),
        "bench": ("bench.command", "latency reports: inference, stages, end to end vs a sequential baseline"),
        "train": ("trained.command", "train a face-swap autoencoder on two extracted face folders"),
        "eval": (
            "bench.eval_command",
            "judge a swap: identity, expression, flicker, lost faces (independent)",
        ),
        "export": ("export.command", "checkpoint → ONNX (with parity checks) → TensorRT engine"),
    }
)

EXIT_ERROR, EXIT_INTERRUPTED = 1, 130
VERBOSE = "--verbose"
# module → (what to tell the user, the pyproject extra that installs it), for the light install
OPTIONAL_PARTS = MappingProxyType({"torch": ("torch", "train"), "dlib": ("dlib", "eval")})


def _top_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="swapcam", description="Real-time face swap: extract, train, export, stream and measure."
    )
    parser.add_argument("--version", action="version", version=f"swapcam {version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (_, summary) in COMMANDS.items():
        commands.add_parser(name, help=summary, add_help=False)
    return parser


@contextlib.contextmanager
def _first_interrupt_only(stay_deaf: bool) -> Iterator[None]:
    """The first Ctrl-C raises KeyboardInterrupt as usual; later ones are ignored, so that the clean-up it
    started (threads joined, outputs finished) is not cut short and the exit code stays 130. Main thread
    only; commands may install their own handler inside (training does) and restore this one.
    ``stay_deaf``: after a Ctrl-C, keep ignoring them until the process exits (the real command line; a
    caller in the same process gets its handler back)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    interrupted = threading.Event()

    def first(signum: int, frame: object) -> None:
        interrupted.set()
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, first)
    try:
        yield
    finally:
        if not (stay_deaf and interrupted.is_set()):
            signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _native_logs(quiet: bool) -> Iterator[None]:
    """Routine native log lines filtered out (``stream.native_logs``) unless not ``quiet``."""
    if not quiet:
        yield
        return
    with NativeLogFilter():
        yield


def _add_verbose(parser: argparse.ArgumentParser) -> None:
    """``--verbose`` on the command and on each of its actions (``swapcam bench threads --verbose``); an
    action's copy sets it only when given, so ``swapcam bench --verbose threads`` keeps it too."""
    what = "also show the native libraries' routine log lines (MediaPipe, TensorFlow Lite, OpenCV, FFmpeg)"
    parser.add_argument(VERBOSE, action="store_true", help=what)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                subparser.add_argument(VERBOSE, action="store_true", default=argparse.SUPPRESS, help=what)


def main(argv: Sequence[str] | None = None) -> int:
    stay_deaf = argv is None  # the process's own command line, not a caller's list
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        _top_parser().parse_args(argv)  # prints help, version or a usage error, and exits
        return EXIT_ERROR
    name = argv[0]
    module_name, summary = COMMANDS[name]
    if VERBOSE not in argv[1:]:
        quiet_environment()  # before any native library loads
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(
        prog=f"swapcam {name}",
        description=module.__doc__ or summary,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    module.configure(parser)
    _add_verbose(parser)
    args = parser.parse_args(argv[1:])
    try:
        with _first_interrupt_only(stay_deaf), _native_logs(quiet=not args.verbose):
            return int(module.run(args))
    except SwapcamError as error:
        print(f"swapcam {name}: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except ModuleNotFoundError as error:
        if error.name is None or error.name not in OPTIONAL_PARTS:
            raise
        package, extra = OPTIONAL_PARTS[error.name]
        print(
            f"swapcam {name}: error: this needs {package}, which a plain `pip install swapcam` leaves out: "
            f"pip install 'swapcam[{extra}]'",
            file=sys.stderr,
        )
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"swapcam {name}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
