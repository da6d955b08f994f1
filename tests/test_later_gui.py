"""Panels refresh later: once for a burst of signals, in order, never on a deleted widget."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel
from shiboken6 import delete

from studio.qt.later import deferred, later, queue


class Recorder(QLabel):
    def __init__(self, name: str, ran: list[str]) -> None:
        super().__init__()
        self.name, self.ran = name, ran

    def refresh(self) -> None:
        self.ran.append(self.name)


def test_a_burst_refreshes_each_panel_once_in_the_order_asked(qtbot):
    ran: list[str] = []
    first, second = Recorder("first", ran), Recorder("second", ran)
    slot = deferred(first.refresh)
    slot("a signal's argument")
    later(second.refresh)
    slot()
    assert ran == [] and not queue().idle  # nothing runs inside the event that asked
    qtbot.waitUntil(lambda: queue().idle)
    assert ran == ["first", "second"]


def test_a_widget_deleted_before_its_turn_is_skipped(qtbot):
    ran: list[str] = []
    gone = Recorder("gone", ran)
    later(gone.refresh)
    delete(gone)  # its C++ widget is gone, the Python object remains
    qtbot.waitUntil(lambda: queue().idle)
    assert ran == []
