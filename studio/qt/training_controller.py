"""Owns the training worker thread and turns engine events into Qt signals."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

from studio.config import ProjectConfig
from studio.engine.control import StopToken
from studio.engine.events import (
    BatchEnded,
    CoachSaid,
    CoachVerdict,
    EpochEnded,
    Event,
    Notice,
    OverfittingCleared,
    RunFinished,
    RunStarted,
)

COALESCE_SECONDS = 0.05  # per-batch events reach the GUI at most 20 times a second


class TrainingThread(QThread):
    """Runs :func:`~studio.engine.training.trainer.fit`; ``events(list)`` comes from this thread."""

    events = Signal(object)

    def __init__(
        self, config: ProjectConfig, run_dir: Path | None, token: StopToken, resume: bool = False
    ) -> None:
        super().__init__()
        self.resume = resume
        self.config = config
        self.run_dir = run_dir
        self.token = token
        self.error: str | None = None
        self._buffer: list[Event] = []
        self._last_flush = 0.0
        self._finished_seen = False

    def run(self) -> None:
        started = time.perf_counter()
        try:
            from studio.engine.runs.eventlog import JsonlWriter
            from studio.engine.training.trainer import fit

            writer = JsonlWriter(self.run_dir / "events.jsonl") if self.run_dir else None
            try:
                fit(self.config, self._sink(writer), self.token, self.run_dir, self.resume)
            finally:
                if writer:
                    writer.close()
        except Exception as exc:
            self.error = str(exc) or type(exc).__name__
            if not self._finished_seen:  # bad input: fit raised before run_started
                self._buffer.append(
                    RunFinished(
                        status="failed",
                        best_epoch=None,
                        best_val_acc=None,
                        seconds=time.perf_counter() - started,
                        message=self.error,
                    )
                )
        self._flush()

    def _sink(self, writer):
        def sink(event: Event) -> None:
            if writer is not None:
                writer(event)
            self._finished_seen |= isinstance(event, RunFinished)
            self._buffer.append(event)
            now = time.monotonic()
            if not isinstance(event, BatchEnded) or now - self._last_flush > COALESCE_SECONDS:
                self._flush()
                self._last_flush = now

        return sink

    def _flush(self) -> None:
        if self._buffer:
            batch, self._buffer = self._buffer, []
            self.events.emit(batch)


class TrainingController(QObject):
    """Starts and stops training; every signal is delivered on the GUI thread.

    ``run_started(RunStarted)``, ``batches_ended(list[BatchEnded])``,
    ``epoch_ended(EpochEnded)``, ``coach_spoke(CoachSaid | OverfittingCleared | CoachVerdict)``,
    ``noticed(Notice)``, and
    ``run_finished(RunFinished)``, emitted exactly once per
    :meth:`start`, after the worker thread has ended (status finished, stopped or failed).
    """

    run_started = Signal(object)
    batches_ended = Signal(object)
    epoch_ended = Signal(object)
    coach_spoke = Signal(object)
    noticed = Signal(object)
    run_finished = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread: TrainingThread | None = None
        self.token: StopToken | None = None
        self.config: ProjectConfig | None = None
        self._final: RunFinished | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None

    def start(
        self, config: ProjectConfig, run_dir: Path | None = None, resume: bool = False
    ) -> None:
        if self.running:
            raise RuntimeError("Training is already running.")
        self.config = config.model_copy(deep=True)  # later edits wait for the next run
        self.token = StopToken()
        self._final = None
        self.thread = TrainingThread(self.config, run_dir, self.token, resume)
        self.thread.events.connect(self._on_events)
        self.thread.finished.connect(self._on_thread_finished)
        self.thread.start()

    def stop(self) -> None:
        """Ask the worker to stop at the next batch (it answers within a batch)."""
        if self.token is not None:
            self.token.stop()

    def set_paused(self, paused: bool) -> None:
        """Hold the worker between two batches, or let it go on."""
        if self.token is not None:
            if paused:
                self.token.pause()
            else:
                self.token.resume()

    @property
    def paused(self) -> bool:
        return self.token is not None and self.token.paused

    def shutdown(self, timeout_ms: int = 15_000) -> bool:
        """Stop and wait for the worker, for window close; ``True`` once it has ended."""
        if self.thread is None:
            return True
        self.stop()
        return self.thread.wait(timeout_ms)

    @Slot(object)
    def _on_events(self, events: list[Event]) -> None:
        batches = [e for e in events if isinstance(e, BatchEnded)]
        for event in events:
            if isinstance(event, RunStarted):
                self.run_started.emit(event)
            elif isinstance(event, EpochEnded):
                if batches:
                    self.batches_ended.emit(batches)
                    batches = []
                self.epoch_ended.emit(event)
            elif isinstance(event, CoachSaid | OverfittingCleared | CoachVerdict):
                self.coach_spoke.emit(event)
            elif isinstance(event, Notice):
                self.noticed.emit(event)
            elif isinstance(event, RunFinished):
                self._final = event
        if batches:
            self.batches_ended.emit(batches)

    @Slot()
    def _on_thread_finished(self) -> None:
        thread, self.thread = self.thread, None
        if thread is not None:
            thread.wait()
        final = self._final or RunFinished(
            status="failed",
            best_epoch=None,
            best_val_acc=None,
            seconds=0.0,
            message="Training ended without a result.",
        )
        self.run_finished.emit(final)
