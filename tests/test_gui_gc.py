"""Reference cycles are collected on the GUI thread, never on a worker (a Qt object torn
down on a worker makes Qt warn "Timers cannot be started from another thread")."""

from __future__ import annotations

import gc
import threading
import weakref


class Node:
    """A reference cycle: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


def test_cycles_are_collected_on_the_gui_thread_only(window, qtbot):
    assert not gc.isenabled()
    node = Node()
    alive = weakref.ref(node)
    del node
    kept: list[list[int]] = []
    worker = threading.Thread(target=lambda: kept.extend([i] for i in range(50_000)))
    worker.start()
    worker.join()
    assert alive() is not None  # a worker's allocations did not collect it
    qtbot.waitUntil(lambda: alive() is None, timeout=10_000)  # the GUI thread's timer did
