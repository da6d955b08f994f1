"""Run a plain function on a worker thread and get its result back on the GUI thread.

Long work the user waits for is *tracked*: :meth:`TaskRunner.track` gives a :class:`Task`
that the worker reports its progress to (from any thread) and whose :meth:`Task.cancel` calls
the worker's stop token; the status bar's progress widget (``studio.qt.task_progress``) shows
every tracked task with its ETA and a Cancel button.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
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


class Task(QObject):
    """One tracked piece of long work: ``title`` ("Scanning folders"), its progress and its
    stop. :meth:`report` may be called from the worker thread; ``progressed(done, total)``
    and ``ended()`` arrive on the GUI thread. ``stage`` names the current step of work done
    in steps ("fold 2 of 5"); the ETA is timed per stage."""

    progressed = Signal(int, int)
    _reported = Signal(int, int, str)
    ended = Signal()

    def __init__(
        self, title: str, stop: Callable[[], None] | None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.title = title
        self._stop = stop
        self.started_at = time.monotonic()
        self.done = 0
        self.total = 0
        self.stage = ""
        self.cancelled = False
        self.finished = False

    @property
    def cancellable(self) -> bool:
        return self._stop is not None

    @property
    def fraction(self) -> float | None:
        """Share done so far, or ``None`` while the total is unknown."""
        return min(1.0, self.done / self.total) if self.total > 0 else None

    def eta(self) -> float | None:
        """Seconds left, from the pace so far (``None`` until there is a pace)."""
        fraction = self.fraction
        if not fraction or fraction >= 1.0:
            return None
        elapsed = time.monotonic() - self.started_at
        return elapsed * (1 - fraction) / fraction

    def report(self, done: int, total: int, stage: str = "") -> None:
        """``done`` of ``total`` steps (files, folds…) of ``stage`` finished (``total`` 0:
        not known); thread-safe."""
        self._reported.emit(int(done), int(total), stage)

    def sink(self, event: Any) -> None:
        """An event sink for the worker: progress events (``CheckProgress``, ``Progress``:
        anything with ``done`` and ``total``) are reported, the rest ignored; thread-safe."""
        if hasattr(event, "done") and hasattr(event, "total"):
            self.report(event.done, event.total, getattr(event, "stage", ""))

    def cancel(self) -> None:
        """Ask the worker to stop (its stop token); what it had replaced stays as it was."""
        if self._stop is not None and not self.finished:
            self.cancelled = True
            self._stop()

    @Slot(int, int, str)
    def _progressed(self, done: int, total: int, stage: str) -> None:
        if stage != self.stage:
            self.stage, self.started_at = stage, time.monotonic()
        self.done, self.total = done, total
        self.progressed.emit(done, total)

    def end(self) -> None:
        if not self.finished:
            self.finished = True
            if self.total > 0 and not self.cancelled:
                self.done = self.total
            self.ended.emit()


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
        self.task: Task | None = None

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
    ``idle()`` fires on the GUI thread when the last running task has ended;
    ``task_started(Task)`` when a tracked task begins (see :meth:`track`).
    """

    idle = Signal()
    task_started = Signal(object)

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
        task: Task | None = None,
    ) -> FunctionThread | None:
        """Run ``fn`` off the GUI thread; ``stop`` (e.g. a token's ``stop``) is called by
        :meth:`stop_all` so long work can end early when the window closes. ``task`` (from
        :meth:`track`) ends when the thread does. After :meth:`close` nothing starts any
        more (``None`` is returned)."""
        if self._closed:
            if task is not None:
                task.end()
            return None
        thread = FunctionThread(fn)
        thread.on_success, thread.on_failure = on_success, on_failure
        thread.stop = stop
        thread.task = task
        thread.succeeded.connect(self._succeeded)
        thread.failed.connect(self._failed)
        thread.finished.connect(self._finished)
        self._threads.add(thread)
        start_low(thread)
        return thread

    def track(self, title: str, stop: Callable[[], None] | None = None) -> Task:
        """A :class:`Task` for long work about to be started with :meth:`start` (pass it as
        ``task``); the worker calls its :meth:`Task.report`, Cancel calls ``stop``."""
        task = Task(title, stop, self)
        task._reported.connect(task._progressed)
        self.task_started.emit(task)
        return task

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
            if thread.task is not None:
                thread.task.end()
            if not self.busy:
                self.idle.emit()
