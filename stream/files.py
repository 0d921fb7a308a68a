"""Writing files so that a crash or an error never leaves a half-written one in place."""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write; it replaces ``path`` only if the block succeeds.

    On an exception the temporary file is removed and ``path`` keeps its previous content (if any).
    """
    part = path.with_name(f"{path.name}.{os.getpid()}.part")  # two processes writing one file do not collide
    try:
        yield part
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)
