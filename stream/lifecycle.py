"""The lifecycle every resource owner of the live runtime shares (sources, sinks).

A context manager; ``close()`` releases once and is safe to call again; use after close is an error; an
owner garbage-collected while open warns with a ``ResourceWarning`` and releases.
"""

import warnings
from typing import TypeVar

Owned = TypeVar("Owned", bound="OwnedResource")


class OwnedResource:
    """Subclasses implement ``_release()`` and set ``_closed = False`` once they hold the resource."""

    _closed = True

    def _release(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._release()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"{type(self).__name__} is closed")

    def __enter__(self: Owned) -> Owned:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        if not self._closed:
            warnings.warn(f"{type(self).__name__} was not closed", ResourceWarning, stacklevel=2)
            self.close()
