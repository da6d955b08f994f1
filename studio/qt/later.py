"""GUI-thread work that can wait a moment: one piece for each pass of the event loop.

A panel refreshes on a project-model signal :func:`later`. One drop emits several signals
(the dataset, then the settings derived from it, then the data's facts) and every panel
listens to some of them: refreshed at once, each panel refreshed up to four times, all in
the one event that delivered the scan, and the window could neither paint nor answer a
click until the last was done. Queued, each panel refreshes once, in a pass of its own,
and the window paints and answers input between them (``benchmarks/gui_gaps.py``).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication
from shiboken6 import isValid


class Later(QObject):
    """The application's queue of pieces of work; see :func:`later`."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pending: dict[Callable[[], object], None] = {}  # insertion-ordered set
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._run_next)

    @property
    def idle(self) -> bool:
        """Whether nothing is waiting."""
        return not self._pending

    def call(self, work: Callable[[], object]) -> None:
        self._pending[work] = None  # asked again before it ran: it runs once, where it was
        if not self._timer.isActive():
            self._timer.start()

    def _run_next(self) -> None:
        if not self._pending:
            return
        work = next(iter(self._pending))
        del self._pending[work]
        if self._pending:
            self._timer.start()  # the next piece in the next pass, after paints and input
        if alive(work):
            work()


def alive(work: Callable[..., object]) -> bool:
    """Whether ``work`` can still run: not a method of a Qt object already deleted."""
    owner = getattr(work, "__self__", None)
    return not isinstance(owner, QObject) or isValid(owner)


def later(work: Callable[[], object]) -> None:
    """Run ``work`` (a bound method: the same one asked for twice runs once) on the GUI
    thread in a coming pass of the event loop, after the work queued before it."""
    queue().call(work)


def deferred(work: Callable[[], object]) -> Callable[..., None]:
    """A slot that runs ``work`` :func:`later` (whatever the signal carries)."""
    return lambda *_args: later(work)


def queue() -> Later:
    """The running application's :class:`Later` (created on first use)."""
    app = QApplication.instance()
    found = app.findChild(Later)
    return found if found is not None else Later(app)
