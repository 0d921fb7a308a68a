"""Check what this machine has for live swapping, and what `swapcam live` would use.

Prints Python and package versions, the CPU, CUDA GPUs, the ONNX Runtime execution providers that really
load, TensorRT, cameras that open, v4l2loopback virtual cameras (with the command that creates one), and
which backend `--backend auto` picks for a model. Lines marked "!" are missing pieces. The exit code is 1
when what was asked about (--model, --backend, --device) cannot run here, 0 otherwise (a machine without a
GPU is not an error unless a GPU was asked for).

examples:
  swapcam doctor
  swapcam doctor --model me2them.onnx
  swapcam doctor --backend tensorrt
  swapcam doctor --device cuda
"""

import argparse
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", type=Path, help="also say which backend `auto` would pick for this model")
    parser.add_argument(
        "--backend", choices=("onnxruntime", "tensorrt", "torch"), help="also check that this backend runs"
    )
    parser.add_argument("--device", choices=("cpu", "cuda"), help="also check that models can run on this")


def run(args: argparse.Namespace) -> int:
    import os

    from stream import doctor
    from stream.machine import cpu_name, versions

    findings = [doctor.Finding("python", versions()["python"] or "")]
    findings += [
        doctor.Finding("package", f"{name} {version or 'not installed'}")
        for name, version in versions().items()
        if name != "python"
    ]
    findings.append(doctor.Finding("cpu", f"{cpu_name()}, {os.cpu_count()} logical cores"))
    findings += doctor.gpu_findings() + doctor.provider_findings() + doctor.tensorrt_findings()
    findings += doctor.camera_findings()
    model = doctor.backend_findings(args.model) if args.model is not None else []
    if args.backend is not None or args.device is not None:
        model += doctor.requested_findings(args.backend, args.device)
    findings += model
    width = max(len(finding.topic) for finding in findings)
    for finding in findings:
        print(f"{' ' if finding.ok else '!'} {finding.topic:<{width}}  {finding.text}")
    # missing optional pieces (no GPU, no TensorRT) are facts about the machine; a --model, --backend or
    # --device that cannot run is what was asked about
    return 0 if all(finding.ok for finding in model) else 1
