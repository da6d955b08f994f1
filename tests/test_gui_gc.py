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


def test_a_full_collection_waits_while_the_app_is_busy(window, monkeypatch):
    from PySide6.QtWidgets import QApplication

    from studio.qt.gui_gc import GuiThreadCollector

    collector = QApplication.instance().findChild(GuiThreadCollector)
    collected: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda generation=2: collected.append(generation))
    monkeypatch.setattr(gc, "get_count", lambda: (10_000, 100, 100))  # all over threshold
    monkeypatch.setattr(collector, "_long_lived", len(gc.get_objects(generation=2)) * 2 // 3)
    busy = [True]  # the oldest generation has grown by half since its last collection
    monkeypatch.setattr(collector, "busy", lambda: busy[0])
    collector.collect()
    assert collected == [1]  # a run trains: the young generations only
    busy[0] = False
    collector.collect()
    assert collected == [1, 2]  # idle: the full collection
