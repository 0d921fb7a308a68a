"""The machine a benchmark ran on: every report names it."""

import os
import platform
from importlib import metadata
from pathlib import Path

PACKAGES = ("torch", "onnxruntime", "onnx", "opencv-python", "mediapipe", "numba", "numpy", "tensorrt")


def cpu_name() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def machine() -> dict[str, object]:
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "cpu": cpu_name(),
        "logical_cpus": os.cpu_count(),
        "gpu": gpu,
        "os": platform.platform(),
        "versions": versions(),
    }
