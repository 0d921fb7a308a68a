"""Paths a command was given, checked before any work starts.

Inputs must exist and be readable; outputs must be writable where they will be created; and no output may
be, or resolve (through links, ``..`` or another spelling) to, one of the inputs: a command never destroys
what it reads. Every failure is one ``SwapcamError`` naming the option and the path.
"""

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from stream.errors import SwapcamError


@dataclass(frozen=True)
class Given:
    """An input: the option that named it (``"--source"``, ``"SRC"``) and the path."""

    option: str
    path: Path


@dataclass(frozen=True)
class Output:
    """An output: a file, or a folder with the ``names`` the command writes in it. ``apart`` also refuses
    a folder output inside a folder input (for commands that read their input folders recursively)."""

    option: str
    path: Path
    folder: bool = False
    names: tuple[str, ...] = ()
    apart: bool = False


def check_paths(inputs: Sequence[Given], outputs: Sequence[Output]) -> None:
    for given in inputs:
        _check_input(given)
    for output in outputs:
        _check_output(output)
        _check_apart(output, inputs)


def _check_input(given: Given) -> None:
    if not given.path.exists():
        raise SwapcamError(f"{given.option} {given.path}: no such file or folder")
    if not os.access(given.path, os.R_OK):
        raise SwapcamError(f"{given.option} {given.path} is not readable")


def _check_output(output: Output) -> None:
    path = output.path
    if path.exists():
        if output.folder and not path.is_dir():
            raise SwapcamError(f"{output.option} expects a folder, {path} is a file")
        if not output.folder and path.is_dir():
            raise SwapcamError(f"{output.option} expects a file, {path} is a folder")
        if not os.access(path, os.W_OK):
            raise SwapcamError(f"{output.option} {path} is not writable")
        return
    ancestor = _nearest_existing(path)
    if not ancestor.is_dir():
        raise SwapcamError(f"{output.option} {path} cannot be created: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise SwapcamError(f"{output.option} {path} cannot be created: {ancestor} is not writable")


def _check_apart(output: Output, inputs: Sequence[Given]) -> None:
    written = {output.path.resolve(), *(output.path.resolve() / name for name in output.names)}
    for given in inputs:
        source = given.path.resolve()
        if source in written:
            raise SwapcamError(
                f"{output.option} {output.path} would overwrite {given.option} {given.path}: "
                "choose another output"
            )
        if output.apart and source.is_dir() and output.path.resolve().is_relative_to(source):
            raise SwapcamError(
                f"{output.option} {output.path} lies inside {given.option} {given.path}, which is read "
                "recursively: choose an output outside it"
            )


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.absolute().parents):
        if candidate.exists():
            return candidate
    return Path("/")
