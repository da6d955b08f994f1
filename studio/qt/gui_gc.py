"""Python's cyclic garbage collector, run on the GUI thread only.

Python collects reference cycles on whichever thread's allocation crosses a threshold. When
that is a worker (decoding, loading weights), Qt objects of the GUI thread caught in a cycle
are torn down on the worker, and Qt complains ("Timers cannot be started from another
thread") or crashes. So while a window exists, automatic collection is off and a timer on the
GUI thread collects instead, every 25 ms, with Python's own thresholds and its rule for full
collections, which wait while the app is busy. (``gc.freeze()`` would make full collections
cheap, but PySide then keeps Python wrappers of deleted Qt objects, and hands one out, of the
wrong type, for a new object at the same address.)
"""

from __future__ import annotations

import gc
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, QTimer

from studio.qt.later import alive

COLLECT_EVERY_MS = 25


class GuiThreadCollector(QObject):
    """Collects each generation that is over its threshold, on the thread it lives in. As
    Python does, the oldest generation is collected only once it has grown by a quarter
    since its last collection (otherwise each full collection would walk every object
    again and again). A full collection walks every object (about 385,000 with torch
    loaded: 0.2–0.6 s on a small machine), so while ``busy()`` (a run trains, a drop is
    being read) it waits for the app to be idle, unless the oldest generation has doubled."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.busy: Callable[[], bool] = lambda: False
        self._thresholds = gc.get_threshold()
        self._long_lived = len(gc.get_objects(generation=2))
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect)
        self._timer.start(COLLECT_EVERY_MS)

    def collect(self) -> None:
        """Collect as automatic collection would have by now."""
        oldest = -1
        for generation, (count, threshold) in enumerate(
            zip(gc.get_count(), self._thresholds, strict=True)
        ):
            if count <= threshold:
                break
            oldest = generation
        if oldest == 2:
            grown = len(gc.get_objects(generation=2)) / max(self._long_lived, 1)
            busy = alive(self.busy) and self.busy()  # the window that asked may be gone
            if grown <= 5 / 4 or (grown <= 2 and busy):
                oldest = 1
        if oldest < 0:
            return
        gc.collect(oldest)
        if oldest == 2:
            self._long_lived = len(gc.get_objects(generation=2))


def collect_on_gui_thread(
    app: QCoreApplication, busy: Callable[[], bool] = lambda: False
) -> GuiThreadCollector:
    """Move garbage collection onto the GUI thread for the rest of the process (once);
    full collections wait while ``busy()``."""
    found = app.findChild(GuiThreadCollector)
    if found is None:
        gc.disable()
        found = GuiThreadCollector(app)
    found.busy = busy
    return found
