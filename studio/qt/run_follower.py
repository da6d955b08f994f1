"""Following a run that another process writes: its ``events.jsonl`` read on a worker thread
and handed on in batches, as :class:`~studio.qt.training_controller.TrainingThread` hands on
the events of a run trained here."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QThread, Signal

from studio.engine.control import StopToken
from studio.engine.runs.follow import EventTail

POLL_SECONDS = 0.25  # how often the log is looked at when nothing new was there


class FollowThread(QThread):
    """Reads ``run_dir``'s log until its ``run_finished`` or until ``token`` stops;
    ``events(list)`` is emitted from this thread, one list per read."""

    events = Signal(object)

    def __init__(self, run_dir: Path, token: StopToken) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.token = token

    def run(self) -> None:
        tail = EventTail(self.run_dir)
        while not self.token.stop_requested:
            events = tail.poll()
            if events:
                self.events.emit(events)
            if tail.finished is not None:
                return
            if not tail.more:
                self.token.wait(POLL_SECONDS)
