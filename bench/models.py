"""What the benchmark runs besides the user's files: an untrained model of a training preset, and the
sample clip at another frame size.

Timing does not depend on the weights' values, so a preset's speed is measured on fresh weights
(its output is not a face). A larger frame is the clip resized once with bicubic interpolation and
cached; its faces are found as in the original.
"""

from collections.abc import Callable
from pathlib import Path

import cv2

from stream.capture import VideoFileSource
from stream.errors import SwapcamError
from stream.samples import cache_dir


def untrained_checkpoint(preset: str, like: Path) -> Path:
    """A checkpoint of ``preset`` at its default resolution with fresh weights, with the labels and
    alignment of the checkpoint ``like``; made once in the cache."""
    import torch

    from trained.checkpoint import load_checkpoint, save_checkpoint
    from trained.model import PRESETS, SwapAutoencoder, preset_config

    if preset not in PRESETS:
        raise SwapcamError(f"--preset must be one of {', '.join(PRESETS)}, got {preset!r}")
    path = cache_dir() / "bench" / f"untrained-{preset}.pt"
    if not path.is_file():
        config = preset_config(preset)
        state = {key: value for key, value in load_checkpoint(like).items() if key != "format_version"}
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            weights = SwapAutoencoder(config).state_dict()
        save_checkpoint(path, {**state, "model_config": config.to_dict(), "model": weights, "step": 0})
    return path


def resized_clip(clip: Path, width: int, height: int) -> Path:
    """``clip`` resized to ``width`` x ``height`` (mp4), made once in the cache."""
    path = cache_dir() / "bench" / f"{clip.stem}-{width}x{height}.mp4"
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.mp4")
    with VideoFileSource(clip) as video:
        writer = cv2.VideoWriter(str(partial), cv2.VideoWriter.fourcc(*"mp4v"), video.fps, (width, height))
        if not writer.isOpened():
            raise SwapcamError(f"could not write {partial}: OpenCV has no mp4v encoder here")
        try:
            while (frame := video.read()) is not None:
                writer.write(cv2.resize(frame, (width, height), interpolation=cv2.INTER_CUBIC))
        finally:
            writer.release()
    partial.replace(path)
    return path


def model_and_checkpoint(model: Path | None, say: Callable[[str], None]) -> tuple[Path, Path | None]:
    """(the model a benchmark runs, the checkpoint of the same weights for the torch backend, if known);
    without ``model``, the demo model exported to ONNX and its shipped checkpoint."""
    from stream.backends import demo_model, is_checkpoint

    if model is None:
        from trained.demo import CHECKPOINT

        return demo_model(say), CHECKPOINT
    return model, model if is_checkpoint(model) else None
