"""Run a plain function on a worker thread and get its result back on the GUI thread."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QDeadlineTimer, QObject, QThread, Signal, Slot

WORKER_NICE = 10  # Linux: how much less CPU a worker thread gets than the GUI thread


def yield_to_gui() -> None:
    """Make the calling worker thread give way to the GUI thread when both want a core, so
    the window repaints on time while training or decoding keeps every core busy. Linux
    gives threads their own niceness, inherited by the threads they start (torch's);
    elsewhere ``QThread.start(LowPriority)`` does the same."""
    if sys.platform.startswith("linux"):
        tid = threading.get_native_id()
        with contextlib.suppress(OSError):  # not allowed: it runs at the GUI's priority
            nice = min(19, os.getpriority(os.PRIO_PROCESS, tid) + WORKER_NICE)
            os.setpriority(os.PRIO_PROCESS, tid, nice)


def start_low(thread: QThread) -> None:
    """Start a worker below the GUI thread's priority (see :func:`yield_to_gui`)."""
    thread.start(QThread.Priority.LowPriority)


class FunctionThread(QThread):
    """Calls ``fn()`` on its own thread; ``succeeded``/``failed`` are emitted from there."""

    succeeded = Signal(object)
    failed = Signal(object)

    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self._fn = fn
        self.on_success: Callable[[Any], None] | None = None
        self.on_failure: Callable[[Exception], None] | None = None
        self.stop: Callable[[], None] | None = None

    def run(self) -> None:
        yield_to_gui()
        try:
            result = self._fn()
        except Exception as exc:
            self.failed.emit(exc)
        else:
            self.succeeded.emit(result)


class TaskRunner(QObject):
    """Owns worker threads until they finish, so none is destroyed while running.

    The callbacks given to :meth:`start` run on the GUI thread: the worker's signals are
    connected to this object's slots, which Qt queues onto the thread this object lives in.
    ``idle()`` fires on the GUI thread when the last running task has ended.
    """

    idle = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._threads: set[FunctionThread] = set()
        self._closed = False

    def start(
        self,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[Exception], None] | None = None,
        stop: Callable[[], None] | None = None,
    ) -> FunctionThread | None:
        """Run ``fn`` off the GUI thread; ``stop`` (e.g. a token's ``stop``) is called by
        :meth:`stop_all` so long work can end early when the window closes. After
        :meth:`close` nothing starts any more (``None`` is returned)."""
        if self._closed:
            return None
        thread = FunctionThread(fn)
        thread.on_success, thread.on_failure = on_success, on_failure
        thread.stop = stop
        thread.succeeded.connect(self._succeeded)
        thread.failed.connect(self._failed)
        thread.finished.connect(self._finished)
        self._threads.add(thread)
        start_low(thread)
        return thread

    @property
    def busy(self) -> bool:
        return any(t.isRunning() for t in self._threads)

    def stop_all(self) -> None:
        """Ask every stoppable task to end early."""
        for thread in list(self._threads):
            if thread.stop is not None:
                thread.stop()

    def close(self) -> None:
        """For window close: refuse new work and ask what can stop to stop (no waiting:
        :attr:`busy` and ``idle()`` tell when everything has ended)."""
        self._closed = True
        self.stop_all()

    def wait_all(self, timeout_ms: int = 10_000) -> bool:
        """Stop what can be stopped, then block until every thread has finished, all within
        one deadline; ``False`` if one is still running then."""
        self.stop_all()
        deadline = QDeadlineTimer(timeout_ms)
        ended = [t.wait(deadline) for t in list(self._threads)]  # each waits what is left
        return all(ended)

    @Slot(object)
    def _succeeded(self, result: Any) -> None:
        thread = self.sender()
        if isinstance(thread, FunctionThread) and thread.on_success is not None:
            thread.on_success(result)

    @Slot(object)
    def _failed(self, exc: Exception) -> None:
        thread = self.sender()
        if isinstance(thread, FunctionThread) and thread.on_failure is not None:
            thread.on_failure(exc)

    @Slot()
    def _finished(self) -> None:
        thread = self.sender()
        if isinstance(thread, FunctionThread):
            thread.wait()  # `finished` fires just before the thread really exits
            self._threads.discard(thread)
            if not self.busy:
                self.idle.emit()
