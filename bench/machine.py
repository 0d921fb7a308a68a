"""The machine a benchmark ran on, with the GPU torch sees."""

from stream.machine import machine as describe


def machine() -> dict[str, object]:
    import torch

    return describe(torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)
