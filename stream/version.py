"""The installed swapcam's version, for reports and model files."""

from importlib import metadata


def version() -> str:
    try:
        return metadata.version("swapcam")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"
