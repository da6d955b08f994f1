"""Cooperative stop and pause for long work running on another thread."""

from __future__ import annotations

import threading


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
        return self._stop.is_set()
