"""Run history: an embedded SQLite database (``runs.sqlite``) in the project folder.

Big files (weights, events, split) stay in run folders; the tables, migrations and
transactions are :mod:`.database`'s, the stored paths :mod:`.paths`'. A run still marked
``running`` whose process is gone is marked ``interrupted`` on open. Training records runs
through a :class:`~studio.engine.runs.recorder.RunRecorder`.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any

from studio.engine.events import RunStatus
from studio.engine.runs import database, lock, paths
from studio.engine.runs.config_diff import config_differences
from studio.engine.runs.database import DB_FILE, METRICS, Transaction
from studio.engine.runs.record import RunRecord, decode, package_versions
from studio.errors import StudioError
from studio.fileio import remove_stale_temps

# importable from here as before (the run comparison panel reads them here)
__all__ = ["DB_FILE", "RunRecord", "RunStore", "config_differences", "move_run"]


def _alive(pid: int | None, host: str) -> bool:
    """Whether the process that recorded a run, on ``host``, still runs."""
    if pid is None or host != socket.gethostname():
        return False
    return pid == os.getpid() or lock.alive(pid)


class RunStore:
    """The run history of one project folder. Close it (or use ``with``) when done."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / DB_FILE
        self.read_only = False  # read-only media: the history is shown, runs are not recorded
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            self._read_only_or_raise(exc)
            return
        try:
            self._open()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            self._read_only_or_raise(exc)

    def _read_only_or_raise(self, exc: Exception) -> None:
        """After ``exc`` opening the history: damaged only when SQLite says so; else the
        history opened to read only, where there is one (read-only media, a full disk)."""
        if isinstance(exc, sqlite3.DatabaseError) and database.is_damaged(exc):
            raise StudioError(f"the run history {self.path} is damaged: {exc}") from None
        if not self._open_read_only():
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise StudioError(f"cannot open the run history {self.path}: {why}") from None

    def _open(self) -> None:
        database.set_up(self._db, self.path)
        self.interrupted = self._mark_interrupted()

    def _open_read_only(self) -> bool:
        """An existing history on media that cannot be written: opened to read only (a
        ``StudioError`` when SQLite finds it damaged); ``False`` when there is none."""
        if not self.path.is_file():
            return False
        uri = f"{self.path.resolve().as_uri()}?immutable=1"
        try:
            self._db = sqlite3.connect(uri, uri=True, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            database.check_version(self._db, self.path)
            self._db.execute("SELECT count(*) FROM runs").fetchone()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            if database.is_damaged(exc):
                raise StudioError(f"the run history {self.path} is damaged: {exc}") from None
            return False
        self.read_only, self.interrupted = True, []
        return True

    # -- plumbing -------------------------------------------------------------------------
    def _tx(self) -> Transaction:
        return Transaction(self._db)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _mark_interrupted(self) -> list[int]:
        """Runs left ``running`` by a process that is gone become ``interrupted``."""
        rows = self._db.execute(
            "SELECT id, pid, host, run_dir FROM runs WHERE status=?", (RunStatus.RUNNING,)
        ).fetchall()
        gone = [r for r in rows if not _alive(r["pid"], r["host"])]
        dead = [r["id"] for r in gone]
        for row in gone:  # half-written checkpoints of the killed process
            if row["run_dir"]:
                remove_stale_temps(Path(paths.absolute(self.folder, row["run_dir"])))
        with self._tx():
            for run_id in dead:
                self._db.execute(
                    "UPDATE runs SET status=?, message=? WHERE id=?",
                    (
                        RunStatus.INTERRUPTED,
                        "The process ended during training (crash, kill or power loss).",
                        run_id,
                    ),
                )
        return dead

    # -- writing ---------------------------------------------------------------------------
    def create_run(
        self,
        config: dict[str, Any],
        run_dir: Path | str = "",
        name: str | None = None,
        model: str = "",
        device: str = "",
        split: dict[str, Any] | None = None,
    ) -> int:
        """A new ``running`` run; returns its id."""
        now = time.time()
        with self._tx():
            cursor = self._db.execute(
                "INSERT INTO runs (name, status, started_at, config, split, device, model, "
                "versions, run_dir, pid, host) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    name or "",
                    RunStatus.RUNNING,
                    now,
                    json.dumps(paths.stored_config(self.folder, config)),
                    json.dumps(split or {}),
                    device,
                    model,
                    json.dumps(package_versions()),
                    paths.stored(self.folder, run_dir),
                    os.getpid(),
                    socket.gethostname(),
                ),
            )
            run_id = int(cursor.lastrowid or 0)
            if not name:
                self._db.execute(
                    "UPDATE runs SET name=? WHERE id=?", (f"Run {run_id} · {model}", run_id)
                )
        return run_id

    def reopen_run(self, run_dir: Path | str) -> int | None:
        """Mark the run kept in ``run_dir`` as running again (it is being resumed); its id."""
        # older rows may hold the path as given or absolute
        forms = (paths.stored(self.folder, run_dir), str(run_dir), os.path.abspath(run_dir))
        row = self._db.execute(
            "SELECT id FROM runs WHERE run_dir IN (?, ?, ?) ORDER BY id DESC LIMIT 1", forms
        ).fetchone()
        if row is None:
            return None
        with self._tx():
            self._db.execute(
                "UPDATE runs SET status=?, message='', ended_at=NULL, pid=?, host=? WHERE id=?",
                (RunStatus.RUNNING, os.getpid(), socket.gethostname(), row[0]),
            )
        return int(row[0])

    def set_started(self, run_id: int, model: str, device: str, split: dict[str, Any]) -> None:
        """What a run learnt once set up: the model, the device and the split."""
        with self._tx():
            self._db.execute(
                "UPDATE runs SET model=?, device=?, split=? WHERE id=?",
                (model, device, json.dumps(split), run_id),
            )

    def add_epoch(self, run_id: int, epoch: int, metrics: dict[str, float], best: int) -> None:
        """Record one epoch's metrics and the best epoch so far."""
        with self._tx():
            database.insert_epoch(self._db, run_id, epoch, metrics, replace=True)
            if best == epoch:
                self._db.execute(
                    "UPDATE runs SET best_epoch=?, best_metrics=? WHERE id=?",
                    (epoch, json.dumps(metrics), run_id),
                )

    def finish_run(
        self,
        run_id: int,
        status: RunStatus | str,
        message: str = "",
        artifacts: dict[str, str] | None = None,
    ) -> None:
        """Close a run with its final status, end time, duration and file paths."""
        status = RunStatus(status)  # an unknown status raises ValueError
        now, stored = time.time(), paths.stored_paths(self.folder, artifacts)
        with self._tx():
            self._db.execute(
                "UPDATE runs SET status=?, message=?, ended_at=?, duration=?-started_at, "
                "artifacts=? WHERE id=?",
                (status, message, now, now, json.dumps(stored), run_id),
            )

    def set_verdict(self, run_id: int, verdict: str) -> None:
        """The coach's final verdict on a run."""
        with self._tx():
            self._db.execute("UPDATE runs SET verdict=? WHERE id=?", (verdict, run_id))

    def rename(self, run_id: int, name: str) -> None:
        with self._tx():
            self._db.execute("UPDATE runs SET name=? WHERE id=?", (name.strip(), run_id))

    def annotate(self, run_id: int, notes: str) -> None:
        with self._tx():
            self._db.execute("UPDATE runs SET notes=? WHERE id=?", (notes, run_id))

    def delete(self, run_id: int, with_files: bool = True) -> None:
        """Forget a run; with ``with_files`` also remove its run folder, but only a folder
        inside the project (never anything else)."""
        record = self.get(run_id)
        with self._tx():
            self._db.execute("DELETE FROM epochs WHERE run_id=?", (run_id,))
            self._db.execute("DELETE FROM runs WHERE id=?", (run_id,))
        if with_files and record is not None and record.run_dir:
            run_dir = Path(record.run_dir).resolve()
            if run_dir.is_relative_to(self.folder.resolve()) and run_dir != self.folder.resolve():
                shutil.rmtree(run_dir, ignore_errors=True)

    def _insert(
        self,
        record: RunRecord,
        run_dir: Path | None,
        artifacts: dict[str, str],
        epochs: list[dict[str, float]],
    ) -> int:
        """Add another history's run as it is (see :func:`move_run`); its new id."""
        with self._tx():
            cursor = self._db.execute(
                "INSERT INTO runs (name, status, started_at, ended_at, duration, config, split, "
                "device, model, best_epoch, best_metrics, versions, notes, message, run_dir, "
                "artifacts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.name,
                    record.status,
                    record.started_at,
                    record.ended_at,
                    record.duration,
                    json.dumps(record.config),
                    json.dumps(record.split),
                    record.device,
                    record.model,
                    record.best_epoch,
                    json.dumps(record.best_metrics),
                    json.dumps(record.versions),
                    record.notes,
                    record.message,
                    str(run_dir or ""),
                    json.dumps(artifacts),
                ),
            )
            run_id = int(cursor.lastrowid or 0)
            for row in epochs:
                database.insert_epoch(self._db, run_id, row["epoch"], row, replace=False)
        return run_id

    # -- reading ---------------------------------------------------------------------------
    def runs(self) -> list[RunRecord]:
        """Every run, newest first."""
        rows = self._db.execute("SELECT * FROM runs ORDER BY id DESC").fetchall()
        return [self._read(r) for r in rows]

    def get(self, run_id: int) -> RunRecord | None:
        row = self._db.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        return self._read(row) if row else None

    def epochs(self, run_id: int) -> list[dict[str, float]]:
        """Per-epoch metrics of a run, in order, each with its ``epoch``."""
        rows = self._db.execute(
            f"SELECT epoch, {', '.join(METRICS)} FROM epochs WHERE run_id=? ORDER BY epoch",
            (run_id,),
        ).fetchall()
        return [dict(r) for r in rows]

    def _read(self, row: sqlite3.Row) -> RunRecord:
        return paths.read_back(self.folder, decode(row))

    def check(self) -> str:
        """SQLite's integrity check: ``"ok"`` for a healthy database."""
        return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])


def move_run(source: RunStore, run_id: int, target: RunStore, runs_dir: Path) -> int:
    """Move a finished (or stopped, failed, interrupted) run with its epochs and its run
    folder from ``source``'s history into ``target``'s, its folder into ``runs_dir``; returns
    its id there. The folder moves first: when that fails nothing has changed."""
    record = source.get(run_id)
    if record is None:
        raise StudioError(f"no run {run_id} in {source.path}")
    if record.status == RunStatus.RUNNING:
        raise StudioError(f"{record.name} is still running: move it once it has ended")
    old_dir = Path(record.run_dir) if record.run_dir else None
    new_dir = old_dir
    if old_dir is not None and old_dir.is_dir():
        runs_dir.mkdir(parents=True, exist_ok=True)
        new_dir = runs_dir / old_dir.name
        n = 2
        while new_dir.exists():
            new_dir, n = runs_dir / f"{old_dir.name}-{n}", n + 1
        try:
            shutil.move(old_dir, new_dir)
        except OSError as exc:
            raise StudioError(f"cannot move {old_dir} to {runs_dir}: {exc}") from None
    artifacts = {
        key: str(new_dir / Path(value).relative_to(old_dir))
        if old_dir is not None and new_dir is not None and Path(value).is_relative_to(old_dir)
        else value
        for key, value in record.artifacts.items()
    }
    new_id = target._insert(record, new_dir, artifacts, source.epochs(run_id))
    source.delete(run_id, with_files=False)
    return new_id
