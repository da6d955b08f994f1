"""Regression test for PySide6 6.12.0 on Python 3.11, which aborts after ~1,000 emits."""

from __future__ import annotations

from PySide6.QtCore import QObject, QThread, Signal, Slot

EMITS = 10_000


class Emitter(QObject):
    fired = Signal(bool, object)


class Counter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    @Slot(bool, object)
    def count_it(self, flag: bool, payload: object) -> None:
        self.count += 1


class EmitThread(QThread):
    def __init__(self, emitter: Emitter) -> None:
        super().__init__()
        self.emitter = emitter

    def run(self) -> None:
        for i in range(EMITS):
            self.emitter.fired.emit(True, {"i": i})


def test_many_emits_within_one_thread(qapp):
    emitter, counter = Emitter(), Counter()
    emitter.fired.connect(counter.count_it)
    for i in range(EMITS):
        emitter.fired.emit(True, i)
    assert counter.count == EMITS


def test_many_emits_across_threads(qtbot):
    emitter, counter = Emitter(), Counter()
    emitter.fired.connect(counter.count_it)  # counter lives here: queued delivery
    thread = EmitThread(emitter)
    thread.start()
    qtbot.waitUntil(lambda: counter.count == EMITS, timeout=30_000)
    assert thread.wait(5_000)
