"""Owns the training worker thread and turns engine events into Qt signals."""

from __future__ import annotations

import time
from collections.abc import Sequence
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
    RunStatus,
)
from studio.engine.runs import files
from studio.engine.runs.follow import request_stop
from studio.engine.training.session import RunSession
from studio.errors import StudioError
from studio.qt.run_follower import FollowThread
from studio.qt.tasks import start_low, yield_to_gui

COALESCE_SECONDS = 0.05  # per-batch events reach the GUI at most 20 times a second


class TrainingThread(QThread):
    """Runs one :class:`RunSession` (set-up included, so the window never waits for it);
    ``events(list)`` is emitted from this thread."""

    events = Signal(object)

    def __init__(self, session: RunSession, token: StopToken) -> None:
        super().__init__()
        self.session = session
        self.token = token
        self._buffer: list[Event] = []
        self._last_flush = 0.0

    def run(self) -> None:
        yield_to_gui()
        self.session.run(self._sink, self.token)
        self._flush()

    def _sink(self, event: Event) -> None:
        self._buffer.append(event)
        now = time.monotonic()
        if not isinstance(event, BatchEnded) or now - self._last_flush > COALESCE_SECONDS:
            self._flush()
            self._last_flush = now

    def _flush(self) -> None:
        if self._buffer:
            batch, self._buffer = self._buffer, []
            self.events.emit(batch)


class TrainingController(QObject):
    """Starts and stops training; every signal is delivered on the GUI thread.

    ``run_started(RunStarted)``, ``batches_ended(list[BatchEnded])``,
    ``epoch_ended(EpochEnded)``, ``coach_spoke(CoachSaid | OverfittingCleared | CoachVerdict)``,
    ``noticed(Notice)``, and
    ``run_finished(RunFinished)``, emitted exactly once per :meth:`start`, after the worker
    thread has ended and the session has closed the run's history and log (status finished,
    stopped or failed). :meth:`follow` sends the same signals for a run another process
    trains.
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
        self.session: RunSession | None = None
        self.following: Path | None = None  # the run folder of a run another process trains
        self._final: RunFinished | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None

    def start(
        self,
        config: ProjectConfig,
        run_dir: Path | None = None,
        resume: bool = False,
        *,
        runs_root: Path | None = None,
        project: Path | None = None,
        notices: Sequence[str] = (),
    ) -> RunSession:
        """Start a run of ``config`` (complete, as resolved) on the worker; everything from
        scanning the images to the first batch happens there. ``notices`` (the resolver's)
        open the run's event stream."""
        if self.running:
            raise RuntimeError("Training is already running.")
        session = RunSession(
            config,
            run_dir,
            runs_root=runs_root,
            project=project,
            resume=resume,
            notices=notices,
        )
        self.session = session
        self.config = session.config  # later edits wait for the next run
        self.following = None
        self._start(TrainingThread(session, self._fresh_token()))
        return session

    def follow(self, run_dir: Path) -> None:
        """Show the run that another process (``studio train``, a server writing a shared
        folder) trains into ``run_dir``: its past events, then each as it is written, until
        its ``run_finished``. :meth:`stop` asks that process to stop."""
        if self.running:
            raise RuntimeError("Training is already running.")
        self.session, self.following = None, Path(run_dir)
        self.config = _saved_config(self.following)
        self._start(FollowThread(self.following, self._fresh_token()))

    def _fresh_token(self) -> StopToken:
        self.token = StopToken()
        self._final = None
        return self.token

    def _start(self, thread: TrainingThread | FollowThread) -> None:
        self.thread = thread
        thread.events.connect(self._on_events)
        thread.finished.connect(self._on_thread_finished)
        start_low(thread)

    def stop(self) -> None:
        """Ask the worker to stop at the next batch (it answers within a batch); a followed
        run is asked through a stop request in its folder."""
        if self.following is not None and self.running:
            try:
                request_stop(self.following)
            except StudioError as exc:
                self.noticed.emit(Notice(message=str(exc)))
        elif self.token is not None:
            self.token.stop()

    def close(self) -> None:
        """Stop the run trained here, or stop following one (which goes on)."""
        if self.following is not None:
            if self.token is not None:
                self.token.stop()
        else:
            self.stop()

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
            status=RunStatus.FAILED,
            best_epoch=None,
            best_val_acc=None,
            seconds=0.0,
            message=(
                f"Stopped following {self.following.name}: the run goes on in its own process."
                if self.following is not None
                else "Training ended without a result."
            ),
        )
        self.run_finished.emit(final)


def _saved_config(run_dir: Path) -> ProjectConfig | None:
    """The settings a followed run saved, once it has (``None`` before, or unreadable)."""
    try:
        return ProjectConfig.model_validate_json((run_dir / files.CONFIG).read_text())
    except (OSError, ValueError):
        return None
