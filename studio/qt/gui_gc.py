"""Python's cyclic garbage collector, run on the GUI thread only.

Python collects reference cycles on whichever thread's allocation crosses a threshold. When
that is a worker (decoding, loading weights), Qt objects of the GUI thread caught in a cycle
are torn down on the worker, and Qt complains ("Timers cannot be started from another
thread") or crashes. So while a window exists, automatic collection is off and a timer on the
GUI thread collects instead, with Python's own per-generation thresholds; the objects alive
when the window opens (the imported modules) are frozen out of every later collection, which
keeps each full collection short.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

COLLECT_EVERY_MS = 500


class GuiThreadCollector(QObject):
    """Collects each generation that is over its threshold, on the thread it lives in."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect)
        self._timer.start(COLLECT_EVERY_MS)

    def collect(self) -> int:
        """Collect as automatic collection would have by now; the number of objects found."""
        oldest = -1
        for generation, (count, threshold) in enumerate(
            zip(gc.get_count(), self._thresholds, strict=True)
        ):
            if count <= threshold:
                break
            oldest = generation
        return gc.collect(oldest) if oldest >= 0 else 0


def collect_on_gui_thread(app: QCoreApplication) -> GuiThreadCollector:
    """Move garbage collection onto the GUI thread for the rest of the process (once)."""
    found = app.findChild(GuiThreadCollector)
    if found is None:
        gc.collect()
        gc.freeze()
        gc.disable()
        found = GuiThreadCollector(app)
    return found
