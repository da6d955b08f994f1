"""Cooperative stop and pause for long work running on another thread."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Stopped(Exception):
    """Work ended early because its :class:`StopToken` asked (between batches, files or
    set-up steps)."""


class StopToken:
    """Shared between the thread asking and the worker doing the work.

    The worker calls :meth:`should_stop` at safe points (between batches); it blocks while
    paused and returns ``True`` once a stop was requested.
    """

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._also: Callable[[], bool] | None = None

    def stop_when(self, check: Callable[[], bool]) -> None:
        """Also stop once ``check()`` is true (asked by :meth:`should_stop`), e.g. when a stop
        request file appears."""
        self._also = check

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # a paused worker must wake up to see the stop

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def should_stop(self) -> bool:
        """Wait while paused; return whether the work should stop now."""
        self._running.wait()
        if not self._stop.is_set() and self._also is not None and self._also():
            self.stop()
        return self._stop.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep ``seconds``, or less when a stop is requested meanwhile; return whether it
        was."""
        return self._stop.wait(seconds)
