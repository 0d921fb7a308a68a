"""The machine a benchmark ran on, with the GPU torch sees (none without torch) and the NVIDIA driver."""

from pathlib import Path

from stream.machine import machine as describe

NVIDIA_DRIVER = Path("/proc/driver/nvidia/version")


def driver() -> str | None:
    return NVIDIA_DRIVER.read_text().splitlines()[0].strip() if NVIDIA_DRIVER.is_file() else None


def machine() -> dict[str, object]:
    try:
        import torch
    except ModuleNotFoundError:  # the light install: ONNX Runtime's providers are in the report's backends
        return {**describe(None), "gpu_driver": driver(), "cuda": None}
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {**describe(gpu), "gpu_driver": driver(), "cuda": torch.version.cuda}
