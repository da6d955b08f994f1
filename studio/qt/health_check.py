"""The data health check, run off the GUI thread: the report, the files' content hashes
and the split they give, handed back on the GUI thread."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from studio.qt.tasks import TaskRunner

if TYPE_CHECKING:
    from studio.engine.data.health import HealthReport
    from studio.engine.data.index import DatasetIndex
    from studio.engine.data.splits import DataSplit


class HealthCheck(QObject):
    """Runs :func:`studio.engine.data.health.check_health`, then the one split
    (:func:`studio.engine.data.splits.split_dataset`, reusing the check's content hashes),
    on a worker thread.

    ``progress(done, total)`` and ``finished(report, split)`` arrive on the GUI thread
    (``split`` is a ``DataSplit``, or ``None`` when the check was stopped); a new
    :meth:`start` cancels the previous check, whose result is then dropped. :meth:`resplit`
    splits again after the user's edits and answers with ``split_ready(split)``.
    """

    progress = Signal(int, int)
    finished = Signal(object, object)
    split_ready = Signal(object)
    _progress = Signal(int, int)

    def __init__(self, tasks: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.token: Any = None
        self.split_token: Any = None
        self.generation = 0
        self.split_generation = 0
        self._progress.connect(self.progress)

    @property
    def running(self) -> bool:
        return self.token is not None

    def start(self, index: DatasetIndex, data_config: Any, seed: int) -> None:
        """Check ``index`` and split it with ``data_config`` (a ``DataConfig``) and ``seed``."""
        from studio.engine.control import StopToken

        self.cancel()
        self.generation += 1
        generation, token = self.generation, StopToken()
        self.token = token
        data = data_config.model_copy(deep=True)  # the worker never reads a live config
        task = self.tasks.track("Checking data health", token.stop)

        def work() -> tuple[HealthReport, DataSplit | None]:
            from studio.engine.data.health import check_health
            from studio.engine.data.splits import split_dataset
            from studio.engine.events import CheckProgress

            def sink(event: Any) -> None:
                if isinstance(event, CheckProgress):
                    self._progress.emit(event.done, event.total)
                    task.report(event.done, event.total)

            report = check_health(index, sink, token)
            if report.cancelled:
                return report, None
            trained = without(data, report.unreadable)
            return report, split_dataset(trained, seed, index, report.digests, token)

        def done(result: tuple[HealthReport, DataSplit | None]) -> None:
            if generation == self.generation:
                self.token = None
                self.finished.emit(*result)

        def failed(exc: Exception) -> None:
            if generation == self.generation:
                self.token = None

        self.tasks.start(work, done, failed, stop=token.stop, task=task)

    def resplit(
        self,
        index: DatasetIndex,
        data_config: Any,
        seed: int,
        known: dict[Path, str],
        unreadable: set[Path] | frozenset[Path] = frozenset(),
    ) -> None:
        """Split ``index`` again (the edits or fractions changed), leaving out the files the
        check found ``unreadable``; the latest request wins."""
        from studio.engine.control import StopToken

        if self.split_token is not None:
            self.split_token.stop()
        self.split_generation += 1
        generation, token = self.split_generation, StopToken()
        self.split_token = token
        data = without(data_config.model_copy(deep=True), unreadable)

        def work() -> DataSplit | None:
            from studio.engine.data.splits import split_dataset

            return split_dataset(data, seed, index, known, token)

        def done(split: DataSplit | None) -> None:
            if generation == self.split_generation:
                self.split_token = None
                if split is not None:
                    self.split_ready.emit(split)

        def failed(exc: Exception) -> None:
            if generation == self.split_generation:
                self.split_token = None

        self.tasks.start(work, done, failed, stop=token.stop)

    def cancel(self) -> None:
        for token in (self.token, self.split_token):
            if token is not None:
                token.stop()
        self.token = self.split_token = None  # a stopped check still reports what it found
        self.split_generation += 1


def without(data: Any, unreadable: set[Path] | frozenset[Path]) -> Any:
    """``data`` (a ``DataConfig`` copy) with the files the check could not decode left out:
    the split then counts exactly the images training can use, as the report does."""
    if unreadable:
        data.excluded_files = sorted({*data.excluded_files, *unreadable})
    return data
