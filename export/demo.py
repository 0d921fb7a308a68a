"""The shipped demo model as an ONNX file, exported into the cache the first time it is needed."""

import hashlib
from collections.abc import Callable
from pathlib import Path

from export.onnx_export import export_onnx
from stream.samples import cache_dir
from trained.demo import CHECKPOINT


def demo_onnx(say: Callable[[str], None]) -> Path:
    """Path of the demo model's ONNX file (a2b: the woman in, the man out), exported on first use.

    The file name carries the checkpoint's hash, so a new shipped checkpoint is exported afresh.
    """
    digest = hashlib.sha256(CHECKPOINT.read_bytes()).hexdigest()[:16]
    path = cache_dir() / "models" / f"{CHECKPOINT.stem}-{digest}.onnx"
    if not path.is_file():
        say(f"exporting the demo model to {path} (first use only)")
        export_onnx(CHECKPOINT, path)
    return path
