"""A bounded hand-off between two pipeline threads, with an explicit drop policy and a close.

``queue.Queue`` cannot be closed, so a thread blocked in ``get``/``put`` would have to poll a stop event.
Here ``close()`` wakes every waiter at once: no polling, and stop reaches a blocked thread immediately.

Policies:
- ``"block"``: ``put`` waits for room; nothing is ever dropped (files: every frame reaches the output).
- ``"latest"``: ``put`` never waits; when full, the oldest item is dropped and counted (live cameras:
  the consumer always gets the newest frame, so latency stays bounded when it is slower than the camera).
"""

import threading
from collections import deque
from typing import Generic, Literal, TypeVar

Item = TypeVar("Item")
Policy = Literal["block", "latest"]


class ChannelClosed(Exception):
    """Raised by ``put`` on a closed channel, and by ``get`` once a closed channel is drained."""


class Channel(Generic[Item]):
    def __init__(self, capacity: int, policy: Policy = "block") -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        if policy not in ("block", "latest"):
            raise ValueError(f"policy must be 'block' or 'latest', got {policy!r}")
        self.capacity, self.policy = capacity, policy
        self.dropped = 0
        self._items: deque[Item] = deque()
        self._closed = False
        self._changed = threading.Condition()

    def put(self, item: Item) -> None:
        with self._changed:
            if self.policy == "block":
                self._changed.wait_for(lambda: self._closed or len(self._items) < self.capacity)
            if self._closed:
                raise ChannelClosed
            if len(self._items) >= self.capacity:
                self._items.popleft()
                self.dropped += 1
            self._items.append(item)
            self._changed.notify_all()

    def get(self) -> Item:
        """The oldest item; waits for one. After ``close()``, items already queued are still returned."""
        with self._changed:
            self._changed.wait_for(lambda: self._closed or bool(self._items))
            if not self._items:
                raise ChannelClosed
            item = self._items.popleft()
            self._changed.notify_all()
            return item

    def close(self, discard: bool = False) -> None:
        """No more puts; ``discard=True`` also drops what is queued (stop now rather than drain)."""
        with self._changed:
            self._closed = True
            if discard:
                self._items.clear()
            self._changed.notify_all()
