"""Threads and hand-offs of the live pipeline: a source thread, then one thread per stage.

The runner knows nothing about faces: a stage is a name and a function ``FramePacket → FramePacket``; the
last stage's results go to ``deliver``. Order is kept because every stage is one thread reading one FIFO
channel. A stage that raises stops the pipeline; ``wait()`` re-raises that exception with its traceback.
``StopRequested`` (a preview window's q/Esc) is a clean stop, not an error.
"""

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from stream.channel import Channel, ChannelClosed
from stream.errors import SwapcamError
from stream.packet import FramePacket
from stream.types import BGRFrame

StageFn = Callable[[FramePacket], FramePacket]
Deliver = Callable[[FramePacket], None]
Read = Callable[[], BGRFrame | None]

# Files: up to two packets wait in each hand-off, to smooth out uneven stage times; nothing is dropped.
HANDOFF_CAPACITY = 2
JOIN_TIMEOUT_S = 2.0
WAKE_S = 0.25  # how often wait() lets the main thread see Ctrl-C
IDLE_S = 0.005  # how often wait() runs its idle call (a preview window: 200 event-loop turns a second)


class StopRequested(Exception):
    """Raised by a stage or sink to end the run cleanly (e.g. q pressed in the preview window)."""


class PipelineStuck(SwapcamError):
    """A thread did not finish within the join timeout after stop (e.g. a stalled network stream)."""


@dataclass(frozen=True)
class Stage:
    name: str
    run: StageFn


class Pipeline:
    """Owns the threads and channels of one run. Start, then ``wait()``; ``stop()`` is safe twice."""

    def __init__(self, read: Read, stages: Sequence[Stage], deliver: Deliver, live: bool) -> None:
        if not stages:
            raise ValueError("a pipeline needs at least one stage")
        self._read, self._deliver = read, deliver

        # Live sources: every hand-off keeps only the newest packet, so a stage that falls behind drops
        # frames in front of it instead of working through stale ones (latency over throughput).
        def channel() -> Channel[FramePacket]:
            return Channel[FramePacket](1, "latest") if live else Channel[FramePacket](HANDOFF_CAPACITY)

        self._channels = [channel() for _ in range(len(stages) + 1)]
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._error_lock = threading.Lock()
        self._finished = threading.Event()
        self._threads = [threading.Thread(target=self._capture, name="capture", daemon=True)]
        for stage, inbox, outbox in zip(stages, self._channels[:-1], self._channels[1:], strict=True):
            self._threads.append(
                threading.Thread(target=self._work, args=(stage, inbox, outbox), name=stage.name, daemon=True)
            )
        self._threads.append(threading.Thread(target=self._sink, name="deliver", daemon=True))
        self.frames_read = 0

    @property
    def dropped(self) -> int:
        """Frames the latest-frame policy dropped because a stage was still busy with an earlier one."""
        return sum(channel.dropped for channel in self._channels)

    def start(self) -> "Pipeline":
        for thread in self._threads:
            thread.start()
        return self

    def wait(self, timeout: float | None = None, idle: Callable[[], None] | None = None) -> bool:
        """Wait for the end of the stream (or a stop or failure); True when finished.

        ``idle`` runs on the waiting thread every few milliseconds (a preview window's event loop); its
        ``StopRequested`` ends the run cleanly. Re-raises a stage's exception; Ctrl-C while waiting stops
        the pipeline and propagates.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        step = IDLE_S if idle is not None else WAKE_S
        try:
            # Short waits in a loop: a lock wait is not interrupted by Ctrl-C on every platform.
            finished = self._finished.wait(step)
            while not finished and (deadline is None or time.monotonic() < deadline):
                if idle is not None:
                    idle()
                finished = self._finished.wait(
                    step if deadline is None else min(step, deadline - time.monotonic())
                )
        except StopRequested:
            finished = True
        except KeyboardInterrupt:
            self.stop()
            raise
        if finished:
            try:
                self.stop()
            finally:
                if self._error is not None:
                    raise self._error  # the stage's failure comes first, even if a thread is also stuck
        return finished

    def stop(self, timeout: float = JOIN_TIMEOUT_S) -> None:
        """Stop every thread and join them; raises PipelineStuck if one is still alive after ``timeout``."""
        self._stop.set()
        for channel in self._channels:
            channel.close(discard=True)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread.ident is not None and thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))
        alive = [thread.name for thread in self._threads if thread.is_alive()]
        if alive:
            raise PipelineStuck(f"threads still running {timeout:g} s after stop: {', '.join(alive)}")

    def __enter__(self) -> "Pipeline":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _fail(self, error: BaseException) -> None:
        with self._error_lock:
            if self._error is None and not isinstance(error, StopRequested):
                self._error = error
        self._stop.set()
        for channel in self._channels:
            channel.close(discard=True)
        self._finished.set()

    def _capture(self) -> None:
        outbox = self._channels[0]
        try:
            while not self._stop.is_set():
                start = time.monotonic_ns()
                frame = self._read()
                if frame is None:
                    break
                end = time.monotonic_ns()
                packet = FramePacket(
                    index=self.frames_read, capture_ns=end, frame=frame, dropped=self.dropped
                )
                outbox.put(packet.with_span("read", (start, end)))
                self.frames_read += 1
        except ChannelClosed:
            pass
        except BaseException as error:  # every failure, KeyboardInterrupt included, must reach wait()
            self._fail(error)
        finally:
            outbox.close()

    def _work(self, stage: Stage, inbox: Channel[FramePacket], outbox: Channel[FramePacket]) -> None:
        try:
            while True:
                packet = inbox.get()
                start = time.monotonic_ns()
                result = stage.run(packet)
                outbox.put(result.with_span(stage.name, (start, time.monotonic_ns())))
        except ChannelClosed:
            pass
        except BaseException as error:
            self._fail(error)
        finally:
            outbox.close()

    def _sink(self) -> None:
        try:
            while True:
                self._deliver(self._channels[-1].get())
        except ChannelClosed:
            pass
        except BaseException as error:
            self._fail(error)
        finally:
            self._finished.set()
