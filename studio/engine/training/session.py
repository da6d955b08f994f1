"""One training run from start to end, the same for every front end (the window's worker and
``studio train``).

A :class:`RunSession` owns the run folder, its event log (``events.jsonl``), the project's
run-history record and the final status; checkpoints come from the trainer's callbacks. Its
close order is fixed: training stops → ``run_finished`` is written → the history is updated
and closed → the log is closed. The record is opened before set-up, so a run stopped while it
loads is listed as stopped, and one whose process is killed is later found interrupted (the
run store's liveness check).

In a data-parallel run (torchrun) the session of rank 0 does all of this; the other processes
train alongside it and write nothing (:meth:`RunSession._run_peer`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from studio.config import ProjectConfig
from studio.engine.control import Stopped, StopToken
from studio.engine.events import Event, EventSink, Notice, RunFinished, RunStarted, RunStatus
from studio.engine.runs import files, lock
from studio.engine.runs.eventlog import JsonlWriter
from studio.engine.runs.follow import StopRequest
from studio.engine.runs.recorder import RunRecorder
from studio.engine.runs.store import RunStore
from studio.errors import StudioError
from studio.fileio import remove_stale_temps

if TYPE_CHECKING:
    from studio.engine.training.run import RunResult


class RunSession:
    """One run of ``config`` into ``run_dir`` (a fresh folder under ``runs_root`` when not
    given), recorded in ``project``'s run history when a project folder is given.

    ``config`` must be complete: front ends resolve the user's choices first. The session
    takes a copy, so later edits wait for the next run. :meth:`run` runs on the caller's
    thread (the window's worker, the CLI's main thread) and never touches Qt.
    """

    def __init__(
        self,
        config: ProjectConfig,
        run_dir: Path | None = None,
        *,
        runs_root: Path | None = None,
        project: Path | None = None,
        resume: bool = False,
        notices: Sequence[str] = (),
        sync_bn: bool = False,
    ) -> None:
        from studio.engine.training import distributed

        self.config = config.model_copy(deep=True)  # where the config enters a run
        self.peer = not distributed.is_main()  # another process of a data-parallel run
        self.sync_bn = sync_bn
        if run_dir is None and not self.peer:
            root = runs_root or (project / "runs" if project else None)
            if root is None:
                raise ValueError("a run needs run_dir, runs_root or a project folder")
            try:
                run_dir = files.new_run_dir(root)
            except OSError as exc:
                raise StudioError(f"Cannot create a run folder in {root}: {exc.strerror}") from None
        self.run_dir = Path(run_dir) if run_dir is not None else None  # a peer's may be None
        self.project = Path(project) if project is not None else None
        self.resume = resume
        self.notices = tuple(notices)  # the resolver's (e.g. lowered workers), sent first
        self.started: RunStarted | None = None  # once set-up is over
        self.final: RunFinished | None = None
        self.result: RunResult | None = None  # the trained model, best epoch loaded

    def run(self, sink: EventSink, token: StopToken | None = None) -> RunFinished:
        """Set up, train and close; ``sink`` gets every event, ``run_finished`` last. Returns
        that final event (also on bad input, as ``failed`` with its one-line message). The
        run folder is locked meanwhile: a second run into it fails at once."""
        token = token or StopToken()
        began = time.perf_counter()
        if self.peer:
            return self._run_peer(sink, token, began)
        try:
            owned = self._own_folder()
        except StudioError as exc:  # another run's folder: nothing is written into it
            self.final = _ended_early(exc, token, 0.0)
            sink(self.final)
            return self.final
        request = StopRequest(self.run_dir)  # Stop in a window following this run
        request.clear()
        token.stop_when(request)
        try:
            return self._run(sink, token, began)
        finally:
            lock.release(owned)

    def _own_folder(self) -> Path:
        """Create the run folder and take its lock; refuse a folder that holds another run
        unless resuming it."""
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StudioError(
                f"Cannot create the run folder {self.run_dir}: {exc.strerror}"
            ) from None
        owned = lock.acquire(self.run_dir)
        if not self.resume and files.holds_run(self.run_dir):
            lock.release(owned)
            raise StudioError(
                f"{self.run_dir} already holds a run: choose a new run folder, or continue "
                f"it (studio train --resume {self.run_dir})"
            )
        remove_stale_temps(self.run_dir)  # half-written checkpoints of a killed run
        return owned

    def _run(self, sink: EventSink, token: StopToken, began: float) -> RunFinished:
        from studio.engine.training import tracking
        from studio.engine.training.trainer import fit

        log = JsonlWriter(self.run_dir / files.EVENTS)
        store: RunStore | None = None
        recorder: RunRecorder | None = None
        try:
            if self.project is not None:
                store, recorder = self._open_history(sink)

            def emit(event: Event) -> None:
                nonlocal recorder
                log(event)
                if recorder is not None:
                    try:
                        recorder(event)
                    except Exception as exc:  # the history must never break training
                        recorder = None
                        sink(Notice(message=f"The run could not be recorded: {exc}"))
                if isinstance(event, RunStarted):
                    self.started = event
                elif isinstance(event, RunFinished):
                    self.final = event
                sink(event)

            for message in self.notices:
                emit(Notice(message=message))
            try:
                hooks = tracking.callbacks(self.config, self.run_dir)  # TensorBoard, MLflow
                self.result = fit(
                    self.config,
                    emit,
                    token,
                    self.run_dir,
                    self.resume,
                    hooks,
                    sync_bn=self.sync_bn,
                )
            except Exception as exc:
                if self.final is None:  # set-up ended before training began
                    emit(_ended_early(exc, token, time.perf_counter() - began))
            if self.final is None:  # cannot happen: fit always ends with run_finished
                emit(_ended_early(RuntimeError("no result"), token, 0.0))
        finally:
            if store is not None:
                store.close()
            log.close()
        return self.final

    def _run_peer(self, sink: EventSink, token: StopToken, began: float) -> RunFinished:
        """Train as one more process of a data-parallel run: no folder, log or history
        (rank 0 writes them); ``sink`` still gets the events, ``run_finished`` last."""
        from studio.engine.training.trainer import fit

        def emit(event: Event) -> None:
            if isinstance(event, RunStarted):
                self.started = event
            elif isinstance(event, RunFinished):
                self.final = event
            sink(event)

        try:
            self.result = fit(
                self.config, emit, token, self.run_dir, self.resume, sync_bn=self.sync_bn
            )
        except Exception as exc:
            if self.final is None:
                emit(_ended_early(exc, token, time.perf_counter() - began))
        return self.final or _ended_early(RuntimeError("no result"), token, 0.0)

    def _open_history(self, sink: EventSink) -> tuple[RunStore | None, RunRecorder | None]:
        """The project's history, with this run opened as ``running`` (on this thread: a
        SQLite connection stays on the thread that opened it)."""
        try:
            store = RunStore(self.project)
        except StudioError as exc:
            sink(Notice(message=f"The run is not recorded: {exc}"))
            return None, None
        if store.read_only:
            store.close()
            sink(Notice(message=f"The run is not recorded: {store.path} is read-only."))
            return None, None
        recorder = RunRecorder(store, self.config.model_dump(mode="json"), self.run_dir)
        try:
            recorder.begin(self.config.model.name, resume=self.resume)
        except Exception as exc:
            store.close()
            sink(Notice(message=f"The run is not recorded: {exc}"))
            return None, None
        return store, recorder


def _ended_early(exc: Exception, token: StopToken, seconds: float) -> RunFinished:
    """The final event of a run that never began training: stopped during set-up, or bad
    input (its one line)."""
    if isinstance(exc, Stopped) or token.stop_requested:
        status, message = RunStatus.STOPPED, "Stopped while setting up: nothing was trained."
    else:
        status, message = RunStatus.FAILED, str(exc) or type(exc).__name__
    return RunFinished(
        status=status, best_epoch=None, best_val_acc=None, seconds=seconds, message=message
    )
