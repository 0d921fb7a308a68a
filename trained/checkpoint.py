"""Checkpoints: one ``torch.save`` file per step, loaded with ``weights_only=True`` (no code runs on load).

Contents: format version, model config, identity labels, alignment of the training faces, step, model
weights and — in training checkpoints — optimizer state, RNG states and the training options. Files are
written to a temporary name and renamed, so a crash never leaves a half-written checkpoint.
"""

import pickle
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType
from typing import Any

import torch

from stream.align import ALIGNMENT_KEYS, alignment_record
from stream.choices import Direction
from stream.contract import ModelInfo
from stream.errors import SwapcamError
from stream.files import atomic_output
from stream.version import version
from trained.model import ModelConfig, SwapAutoencoder

FORMAT_VERSION = 1
PATTERN = re.compile(r"step-(\d{7,})\.pt$")
DECODER: dict[Direction, str] = {
    "a2b": "b",
    "b2a": "a",
}  # direction → the decoder that draws the output identity


def checkpoint_name(step: int) -> str:
    return f"step-{step:07d}.pt"


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as part:
        torch.save({"format_version": FORMAT_VERSION, **state}, part)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Load and check a checkpoint; unreadable, foreign or damaged files raise ``SwapcamError``."""
    if not path.is_file():
        raise SwapcamError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, OSError, EOFError, ValueError, pickle.UnpicklingError, zipfile.BadZipFile) as error:
        raise SwapcamError(
            f"{path} is damaged or not a swapcam checkpoint ({type(error).__name__})"
        ) from error
    if not isinstance(state, dict) or state.get("format_version") != FORMAT_VERSION or "model" not in state:
        raise SwapcamError(f"{path} is not a swapcam checkpoint of format version {FORMAT_VERSION}")
    return state


def list_checkpoints(folder: Path) -> list[Path]:
    """Checkpoints in ``folder``, oldest step first."""
    found = [(int(m.group(1)), p) for p in folder.glob("step-*.pt") if (m := PATTERN.search(p.name))]
    return [path for _, path in sorted(found)]


def remove_stale_parts(folder: Path) -> list[Path]:
    """Delete half-written checkpoints (``step-N.pt.PID.part``, and ``step-N.pt.part`` of older versions) a
    killed save left behind; returns what it deleted."""
    stale = sorted(folder.glob("step-*.pt*.part"))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def newest_loadable(run: Path, say: Callable[[str], None] | None) -> dict[str, Any]:
    """The newest checkpoint of ``run`` that loads. Damaged newer ones are renamed ``*.damaged`` (kept, no
    longer counted as checkpoints) and ``say`` is told which and why; if none loads, nothing is renamed.
    ``say`` None: only read (the other processes of a torchrun job leave renaming to rank 0)."""
    checkpoints = list_checkpoints(run / "checkpoints")
    if not checkpoints:
        raise SwapcamError(f"{run} has no checkpoints (expected {run}/checkpoints/step-NNNNNNN.pt)")
    damaged: list[tuple[Path, SwapcamError]] = []
    for path in reversed(checkpoints):
        try:
            state = load_checkpoint(path)
            check_schema(state, path, training=True)
        except SwapcamError as error:
            damaged.append((path, error))
            continue
        if say is not None:
            for bad, reason in damaged:
                aside = bad.with_name(bad.name + ".damaged")
                bad.replace(aside)
                say(f"skipped {bad.name} ({reason}); kept it as {aside.name} and resumed from {path.name}")
        return state
    raise SwapcamError(f"no checkpoint of {run} loads: {damaged[0][1]}")


def latest_checkpoint(run: Path) -> Path:
    checkpoints = list_checkpoints(run / "checkpoints")
    if not checkpoints:
        raise SwapcamError(f"{run} has no checkpoints (expected {run}/checkpoints/step-NNNNNNN.pt)")
    return checkpoints[-1]


def prune_checkpoints(folder: Path, keep: int) -> None:
    for path in list_checkpoints(folder)[:-keep]:
        path.unlink()


def resolve_checkpoint(path: Path) -> Path:
    """A checkpoint file, or the latest checkpoint of a run folder."""
    return latest_checkpoint(path) if path.is_dir() else path


# What a model checkpoint must hold to be run or exported, beyond the format version: key → type
SCHEMA = MappingProxyType(
    {"model_config": dict, "labels": dict, "alignment": dict, "step": int, "model": dict}
)
TRAINING_SCHEMA = MappingProxyType({"preset": str, "optimizer": dict, "rng": dict})


def load_model(path: Path) -> tuple[SwapAutoencoder, dict[str, Any]]:
    """The model of a checkpoint (or of a run's latest checkpoint) in eval mode, and the checkpoint. A file
    that lacks what a model needs, or holds weights of other shapes, is one ``SwapcamError``."""
    file = resolve_checkpoint(path)
    state = load_checkpoint(file)
    check_schema(state, file)
    try:
        model = SwapAutoencoder(ModelConfig(**state["model_config"]))
    except (TypeError, ValueError) as error:
        raise SwapcamError(f"{file} holds a model description swapcam cannot build: {error}") from error
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as error:
        first = next((line.strip() for line in str(error).splitlines()[1:] if line.strip()), str(error))
        raise SwapcamError(f"{file} holds weights that do not fit its model description: {first}") from error
    return model.eval(), state


def check_schema(state: dict[str, Any], path: Path, training: bool = False) -> None:
    """The keys and types ``SCHEMA`` names (with ``training``, also what resuming needs), the alignment's
    keys and both identities' labels."""
    schema = {**SCHEMA, **(TRAINING_SCHEMA if training else {})}
    wrong = [f"{key} ({t.__name__})" for key, t in schema.items() if not isinstance(state.get(key), t)]
    if not wrong and not all(key in alignment_record(state["alignment"]) for key in ALIGNMENT_KEYS):
        wrong.append(f"alignment with {', '.join(ALIGNMENT_KEYS)}")
    if not wrong and not {"a", "b"} <= set(state["labels"]):
        wrong.append("labels of a and b")
    if wrong:
        raise SwapcamError(f"{path} is not a complete swapcam model checkpoint: it lacks {'; '.join(wrong)}")


def model_info(state: dict[str, Any], direction: Direction, precision: str) -> ModelInfo:
    """The model contract's description of one direction of a loaded checkpoint."""
    alignment = alignment_record(state["alignment"])
    return ModelInfo(
        resolution=int(state["model_config"]["resolution"]),
        face_type=alignment["face_type"],
        coverage=float(alignment["coverage"]),
        template=alignment["template"],
        identity_a=state["labels"]["a"],
        identity_b=state["labels"]["b"],
        direction=direction,
        training_steps=int(state["step"]),
        source=f"swapcam {version()}",
        precision=precision,
    )
