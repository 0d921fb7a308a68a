"""The dependency facts the project relies on (see the README's set-up section)."""

from importlib import metadata

import numpy as np


def test_exactly_one_opencv_distribution_is_installed():
    names = {dist.metadata["Name"].lower() for dist in metadata.distributions()}
    assert len([name for name in names if name.startswith("opencv")]) == 1, sorted(names)


def test_pinned_versions():
    assert metadata.version("mediapipe") == "0.10.21"
    assert int(np.__version__.split(".")[0]) < 2
    assert int(metadata.version("protobuf").split(".")[0]) < 5
