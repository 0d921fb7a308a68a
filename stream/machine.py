"""The machine a run or benchmark happened on: every report names it."""

import os
import platform
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "swapcam",
    "torch",
    "onnxruntime",
    "onnxruntime-gpu",
    "onnx",
    "opencv-python",
    "mediapipe",
    "numba",
    "numpy",
    "pyvirtualcam",
    "tensorrt",
)


def cpu_name() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def versions() -> dict[str, str | None]:
    """Python and the installed version of each package that matters (None: not installed)."""
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def machine(gpu: str | None = None) -> dict[str, object]:
    return {
        "cpu": cpu_name(),
        "logical_cpus": os.cpu_count(),
        "gpu": gpu,
        "os": platform.platform(),
        "versions": versions(),
    }
