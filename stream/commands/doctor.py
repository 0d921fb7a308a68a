"""Check what this machine has for live swapping, and what `swapcam live` would use.

Prints Python and package versions, the CPU, CUDA GPUs, the ONNX Runtime execution providers that really
load, TensorRT, cameras that open, v4l2loopback virtual cameras (with the command that creates one), and
which backend `--backend auto` picks for a model. Lines marked "!" are missing pieces.

examples:
  swapcam doctor
  swapcam doctor --model me2them.onnx
"""

import argparse
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", type=Path, help="also say which backend `auto` would pick for this model")


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
    if args.model is not None:
        findings += doctor.backend_findings(args.model)
    width = max(len(finding.topic) for finding in findings)
    for finding in findings:
        print(f"{' ' if finding.ok else '!'} {finding.topic:<{width}}  {finding.text}")
    return 0
