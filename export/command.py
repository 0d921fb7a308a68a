"""Turn a trained run into model files the live pipeline runs.

  onnx    checkpoint (or run folder) → ONNX with the swapcam metadata, checked for parity on real faces
  verify  check an ONNX file against the model contract; print its metadata, I/O and usable providers
  engine  ONNX → TensorRT engine with a JSON sidecar (needs TensorRT and an NVIDIA GPU)
  dfm     checkpoint (or run folder) → DeepFaceLab .dfm for DeepFaceLive and FaceFusion (train on faces
          extracted with `swapcam extract --align dflive`)

examples:
  swapcam export onnx runs/me2them --out me2them.onnx
  swapcam export onnx runs/me2them --out me2them-fp16.onnx --fp16
  swapcam export verify me2them.onnx --run runs/me2them
  swapcam export engine me2them-fp16.onnx --out me2them.engine --fp16
  swapcam export dfm runs/me2them-dfl --out Them.dfm
"""

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from stream.choices import DIRECTIONS, LIVE_DIRECTION

if TYPE_CHECKING:
    from export.onnx_export import ExportReport


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    onnx = actions.add_parser("onnx", help="checkpoint or run folder → ONNX")
    onnx.add_argument(
        "run", type=Path, metavar="RUN", help="run folder (its latest checkpoint) or checkpoint file"
    )
    onnx.add_argument("--out", required=True, type=Path, help="the .onnx file to write")
    onnx.add_argument(
        "--direction",
        choices=DIRECTIONS,
        default=LIVE_DIRECTION,
        help="a2b: A's face in, B's out (default a2b)",
    )
    onnx.add_argument("--fp16", action="store_true", help="float16 weights and I/O")
    onnx.add_argument("--opset", type=int, default=17, help="ONNX opset, 9..21 (default 17)")
    dfm = actions.add_parser("dfm", help="checkpoint or run folder → .dfm (DeepFaceLive, FaceFusion)")
    dfm.add_argument(
        "run", type=Path, metavar="RUN", help="run folder (its latest checkpoint) or checkpoint file"
    )
    dfm.add_argument("--out", required=True, type=Path, help="the .dfm file to write")
    dfm.add_argument(
        "--direction",
        choices=DIRECTIONS,
        default=LIVE_DIRECTION,
        help="a2b: A's face in, B's out (default a2b)",
    )
    dfm.add_argument("--opset", type=int, default=17, help="ONNX opset, 12..18 (default 17)")
    dfm.add_argument(
        "--force",
        action="store_true",
        help="export a model trained on faces of another alignment (DeepFaceLive will misplace the face)",
    )
    verify = actions.add_parser("verify", help="check an ONNX file against the swapcam model contract")
    verify.add_argument("model", type=Path, metavar="FILE.onnx", help="the exported model to check")
    verify.add_argument("--run", type=Path, help="also check parity against this run or checkpoint")
    engine = actions.add_parser("engine", help="ONNX → TensorRT engine (NVIDIA GPU and TensorRT needed)")
    engine.add_argument("model", type=Path, metavar="FILE.onnx", help="the exported model to compile")
    engine.add_argument("--out", required=True, type=Path, help="the .engine file to write")
    engine.add_argument("--fp16", action="store_true", help="half-precision engine")
    engine.add_argument(
        "--max-batch", type=int, default=4, help="largest batch the profile allows (default 4)"
    )
    engine.add_argument("--workspace", type=int, default=1024, help="builder workspace in MB (default 1024)")
    engine.add_argument(
        "--opt-level", type=int, default=3, help="builder optimization level 0..5 (default 3)"
    )


def run(args: argparse.Namespace) -> int:
    _check_paths(args)
    return {"onnx": _onnx, "dfm": _dfm, "verify": _verify, "engine": _engine}[args.action](args)


def _check_paths(args: argparse.Namespace) -> None:
    """Inputs readable, the output writable and not one of the inputs (or the run it was named by)."""
    from stream.paths import Given, Output, check_paths

    inputs = [Given(option, path) for option, path in (
        ("RUN", getattr(args, "run", None) if args.action in ("onnx", "dfm") else None),
        ("FILE.onnx", getattr(args, "model", None)),
        ("--run", getattr(args, "run", None) if args.action == "verify" else None),
    ) if path is not None]  # fmt: skip
    if args.action in ("onnx", "dfm"):  # the checkpoint a run folder stands for is an input too
        from trained.checkpoint import list_checkpoints

        folder = args.run / "checkpoints" if args.run.is_dir() else None
        inputs += [Given("RUN", path) for path in (list_checkpoints(folder) if folder else [])]
    out = getattr(args, "out", None)
    check_paths(inputs, [Output("--out", out)] if out is not None else [])


def _onnx(args: argparse.Namespace) -> int:
    from export.onnx_export import export_onnx

    print(f"exporting {args.run} ({args.direction}, {'fp16' if args.fp16 else 'fp32'}, opset {args.opset})")
    report = export_onnx(args.run, args.out, direction=args.direction, fp16=args.fp16, opset=args.opset)
    return _print_report(report)


def _print_report(report: "ExportReport") -> int:
    print(f"graph: {report.signature.describe()}")
    print("onnx.checker: ok")
    print(report.parity.describe())
    print(f"wrote {report.path} ({report.bytes / 1e6:.1f} MB), trained {report.info.training_steps} steps")
    for sign in report.undertrained:
        print(f"warning: the model looks undertrained: {sign} (train it longer)", file=sys.stderr)
    return 0


def _dfm(args: argparse.Namespace) -> int:
    from export.dfm_export import export_dfm

    print(f"exporting {args.run} as .dfm ({args.direction}, fp32, opset {args.opset})")
    report, alignment = export_dfm(args.run, args.out, args.direction, args.opset, args.force)
    if not alignment.matches:
        print(f"warning: {alignment.advice}", file=sys.stderr)
    elif alignment.advice:
        print(f"note: {alignment.advice}")
    return _print_report(report)


def _verify(args: argparse.Namespace) -> int:
    from export.verify import verify_onnx

    report = verify_onnx(args.model, args.run)
    print(f"{args.model}: a swapcam model")
    for key, value in report.metadata.items():
        print(f"  {key}: {value}")
    print(f"I/O: {report.signature.describe()}")
    for provider, status in report.providers.items():
        print(f"ONNX Runtime {provider}: {status}")
    if report.parity is not None:
        print(report.parity.describe())
        return 0 if report.parity.passed else 1
    return 0


def _engine(args: argparse.Namespace) -> int:
    from export.engine import EngineOptions, build_engine

    options = EngineOptions(
        fp16=args.fp16, max_batch=args.max_batch, workspace_mb=args.workspace, opt_level=args.opt_level
    )
    result = build_engine(args.model, args.out, options)
    print(
        ("reused cached engine " if result.cached else "built ") + f"{result.path} in {result.seconds:.1f} s"
    )
    print(f"sidecar: {result.sidecar}")
    return 0
