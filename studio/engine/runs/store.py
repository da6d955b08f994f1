"""Run history: an embedded SQLite database (``runs.sqlite``) in the project folder.

Every change is one transaction and the journal is in WAL mode, so a process killed at any
moment leaves the database consistent; big files (weights, events, split) stay in run folders.
A run still marked ``running`` whose process is gone is marked ``interrupted`` on open.
:class:`RunRecorder` is an event sink, so the trainer records runs without knowing of it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import sqlite3
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from studio.engine.events import (
    CoachVerdict,
    EpochEnded,
    Event,
    RunFinished,
    RunStarted,
    RunStatus,
)
from studio.engine.runs import files
from studio.engine.runs.eventlog import coach_verdict
from studio.errors import StudioError
from studio.fileio import remove_stale_temps

DB_FILE = "runs.sqlite"
STORE_VERSION = 2  # PRAGMA user_version: bump with a migration when the tables change
METRICS = ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds", "images_per_second")
PACKAGES = ("torch", "torchvision", "albumentations", "studio")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL,
    duration REAL,
    config TEXT NOT NULL,
    split TEXT NOT NULL DEFAULT '{}',
    device TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    best_epoch INTEGER,
    best_metrics TEXT NOT NULL DEFAULT '{}',
    versions TEXT NOT NULL DEFAULT '{}',
    notes TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '',
    run_dir TEXT NOT NULL DEFAULT '',
    artifacts TEXT NOT NULL DEFAULT '{}',
    pid INTEGER,
    host TEXT NOT NULL DEFAULT '',
    verdict TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS epochs (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    train_loss REAL, train_acc REAL, val_loss REAL, val_acc REAL,
    lr REAL, seconds REAL, images_per_second REAL,
    PRIMARY KEY (run_id, epoch)
);
"""


@dataclasses.dataclass
class RunRecord:
    """One row of the run history, JSON columns decoded."""

    id: int
    name: str
    status: RunStatus
    started_at: float
    ended_at: float | None
    duration: float | None
    config: dict[str, Any]
    split: dict[str, Any]
    device: str
    model: str
    best_epoch: int | None
    best_metrics: dict[str, float]
    versions: dict[str, str]
    notes: str
    message: str
    run_dir: str
    artifacts: dict[str, str]
    verdict: str = ""  # the coach's last word on the run

    @property
    def resumable(self) -> bool:
        """Stopped, failed or interrupted, with a last checkpoint on disk to continue from."""
        return (
            self.status in (RunStatus.STOPPED, RunStatus.FAILED, RunStatus.INTERRUPTED)
            and bool(self.run_dir)
            and (Path(self.run_dir) / files.LAST).is_file()
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that decide a run's outcome (no imports)."""
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def _alive(pid: int | None, host: str) -> bool:
    if pid is None or host != socket.gethostname():
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, owned by someone else (or the platform cannot tell)
    return True


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
        if isinstance(exc, sqlite3.DatabaseError) and _kind(exc) == "damaged":
            raise StudioError(f"the run history {self.path} is damaged: {exc}") from None
        if not self._open_read_only():
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise StudioError(f"cannot open the run history {self.path}: {why}") from None

    def _open(self) -> None:
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._check_version()
        with self._tx():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            self._migrate()
            self._db.execute(f"PRAGMA user_version={STORE_VERSION}")
        self.interrupted = self._mark_interrupted()

    def _check_version(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > STORE_VERSION:
            self._db.close()
            raise StudioError(f"the run history {self.path} is from a newer Studio: update Studio")

    def _open_read_only(self) -> bool:
        """An existing history on media that cannot be written: opened to read only (a
        ``StudioError`` when SQLite finds it damaged); ``False`` when there is none."""
        if not self.path.is_file():
            return False
        uri = f"{self.path.resolve().as_uri()}?immutable=1"
        try:
            self._db = sqlite3.connect(uri, uri=True, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._check_version()
            self._db.execute("SELECT count(*) FROM runs").fetchone()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            if _kind(exc) == "damaged":
                raise StudioError(f"the run history {self.path} is damaged: {exc}") from None
            return False
        self.read_only, self.interrupted = True, []
        return True

    # -- plumbing -------------------------------------------------------------------------
    def _tx(self) -> _Transaction:
        return _Transaction(self._db)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        """Bring a database from an older Studio up to :data:`STORE_VERSION` (inside the
        opening transaction). Version 2 adds the coach's verdict, read back from the
        ``events.jsonl`` of runs recorded before."""
        columns = {r["name"] for r in self._db.execute("PRAGMA table_info(runs)")}
        if "verdict" not in columns:
            self._db.execute("ALTER TABLE runs ADD COLUMN verdict TEXT NOT NULL DEFAULT ''")
            rows = self._db.execute("SELECT id, run_dir FROM runs WHERE run_dir != ''")
            for run_id, run_dir in rows.fetchall():
                if verdict := coach_verdict(Path(run_dir)):
                    self._db.execute("UPDATE runs SET verdict=? WHERE id=?", (verdict, run_id))

    def _mark_interrupted(self) -> list[int]:
        """Runs left ``running`` by a process that is gone become ``interrupted``."""
        rows = self._db.execute(
            "SELECT id, pid, host, run_dir FROM runs WHERE status=?", (RunStatus.RUNNING,)
        ).fetchall()
        gone = [r for r in rows if not _alive(r["pid"], r["host"])]
        dead = [r["id"] for r in gone]
        for row in gone:  # half-written checkpoints of the killed process
            if row["run_dir"]:
                remove_stale_temps(Path(self._absolute(row["run_dir"])))
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
                    json.dumps(self._stored_config(config)),
                    json.dumps(split or {}),
                    device,
                    model,
                    json.dumps(package_versions()),
                    self._stored(run_dir),
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
        forms = (self._stored(run_dir), str(run_dir), os.path.abspath(run_dir))  # older rows too
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
        values = [metrics.get(k) for k in METRICS]
        with self._tx():
            self._db.execute(
                f"INSERT OR REPLACE INTO epochs (run_id, epoch, {', '.join(METRICS)}) "
                f"VALUES (?, ?, {', '.join('?' * len(METRICS))})",
                (run_id, epoch, *values),
            )
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
        now = time.time()
        with self._tx():
            self._db.execute(
                "UPDATE runs SET status=?, message=?, ended_at=?, duration=?-started_at, "
                "artifacts=? WHERE id=?",
                (status, message, now, now, json.dumps(self._stored_paths(artifacts)), run_id),
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
                values = [row.get(k) for k in METRICS]
                self._db.execute(
                    f"INSERT INTO epochs (run_id, epoch, {', '.join(METRICS)}) "
                    f"VALUES (?, ?, {', '.join('?' * len(METRICS))})",
                    (run_id, row["epoch"], *values),
                )
        return run_id

    # -- reading ---------------------------------------------------------------------------
    def runs(self) -> list[RunRecord]:
        """Every run, newest first."""
        rows = self._db.execute("SELECT * FROM runs ORDER BY id DESC").fetchall()
        return [self._record(r) for r in rows]

    def get(self, run_id: int) -> RunRecord | None:
        row = self._db.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        return self._record(row) if row else None

    def epochs(self, run_id: int) -> list[dict[str, float]]:
        """Per-epoch metrics of a run, in order, each with its ``epoch``."""
        rows = self._db.execute(
            f"SELECT epoch, {', '.join(METRICS)} FROM epochs WHERE run_id=? ORDER BY epoch",
            (run_id,),
        ).fetchall()
        return [dict(r) for r in rows]

    # -- paths: relative to the project folder inside it, so the history moves with it -------
    def _stored(self, path: Path | str) -> str:
        if not str(path):
            return ""
        full, base = Path(os.path.abspath(path)), Path(os.path.abspath(self.folder))
        for inside, folder in ((full, base), (Path(path).resolve(), self.folder.resolve())):
            if inside.is_relative_to(folder):  # as given, or through links (/tmp on macOS)
                return inside.relative_to(folder).as_posix()
        return str(full)

    def _stored_paths(self, paths: dict[str, str] | None) -> dict[str, str]:
        return {k: self._stored(v) for k, v in (paths or {}).items()}

    def _stored_config(self, config: dict[str, Any]) -> dict[str, Any]:
        from studio.config.io import map_paths, stored_path

        return map_paths(config, lambda p: stored_path(p, self.folder, levels=1))

    def _absolute(self, value: str) -> str:
        if not value:
            return ""
        path = Path(value)
        return str(path if path.is_absolute() else Path(os.path.abspath(self.folder / path)))

    def _record(self, row: sqlite3.Row) -> RunRecord:
        from studio.config.io import map_paths, read_path

        record = _record(row)
        record.run_dir = self._absolute(record.run_dir)
        record.artifacts = {k: self._absolute(v) for k, v in record.artifacts.items()}
        record.config = map_paths(record.config, lambda p: str(read_path(p, self.folder)))
        return record

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


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any error."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


def _kind(exc: sqlite3.DatabaseError) -> str:
    """``damaged`` only when SQLite says the file is corrupt or not a database; otherwise
    (read-only, full disk, locked, cannot open) the file itself may well be healthy."""
    name = getattr(exc, "sqlite_errorname", "")
    return "damaged" if name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") else "unavailable"


def _record(row: sqlite3.Row) -> RunRecord:
    data = dict(row)
    for key in ("config", "split", "best_metrics", "versions", "artifacts"):
        data[key] = json.loads(data[key] or "{}")
    data.pop("pid", None)
    data.pop("host", None)
    data["status"] = RunStatus(data["status"])
    return RunRecord(**data)


class RunRecorder:
    """An event sink that records one training run into a :class:`RunStore`.

    :meth:`begin` opens the run before set-up (so a run stopped or killed while it loads is
    listed too); otherwise ``run_started`` opens it. ``run_started`` adds the split (from the
    ``split.json`` the trainer wrote), each ``epoch_ended`` a row, ``coach_verdict`` the
    coach's verdict, ``run_finished`` closes it."""

    def __init__(
        self, store: RunStore, config: dict[str, Any], run_dir: Path | None, name: str = ""
    ) -> None:
        self.store = store
        self.config = config
        self.run_dir = Path(run_dir) if run_dir else None
        self.name = name
        self.run_id: int | None = None

    def begin(self, model: str = "", resume: bool = False) -> int:
        """Open the run now as ``running`` (``resume``: reopen the one kept in ``run_dir``)."""
        if resume and self.run_dir is not None:
            self.run_id = self.store.reopen_run(self.run_dir)
        if self.run_id is None:
            self.run_id = self.store.create_run(
                self.config, self.run_dir or "", self.name, model=model
            )
        return self.run_id

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            if self.run_id is None:
                self.begin(event.model, resume=event.start_epoch > 1)
            split = {
                "classes": list(event.classes),
                "train_images": event.train_images,
                "val_images": event.val_images,
                "test_images": event.test_images,
                "skipped_images": event.skipped_images,
                "counts": self._split_counts(),
            }
            self.store.set_started(self.run_id, event.model, event.device, split)
        elif isinstance(event, EpochEnded) and self.run_id is not None:
            metrics = {k: float(getattr(event, k)) for k in METRICS}
            self.store.add_epoch(self.run_id, event.epoch, metrics, event.best_epoch)
        elif isinstance(event, CoachVerdict) and self.run_id is not None:
            self.store.set_verdict(self.run_id, event.text)
        elif isinstance(event, RunFinished) and self.run_id is not None:
            self.store.finish_run(self.run_id, event.status, event.message, self._artifacts())

    def _split_counts(self) -> dict[str, Any]:
        if self.run_dir is None or not (self.run_dir / files.SPLIT).is_file():
            return {}
        try:
            return json.loads((self.run_dir / files.SPLIT).read_text("utf-8")).get("counts", {})
        except (OSError, ValueError):
            return {}

    def _artifacts(self) -> dict[str, str]:
        if self.run_dir is None:
            return {}
        found = {n: str(self.run_dir / n) for n in files.RUN_FILES if (self.run_dir / n).is_file()}
        exports = self.run_dir / "exports"
        if exports.is_dir():
            found.update({f"exports/{p.name}": str(p) for p in sorted(exports.iterdir())})
        return found


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"train": {"epochs": 5}}`` → ``{"train.epochs": 5}`` (lists stay values)."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def config_differences(configs: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """The settings whose values differ between runs: dotted name → one value per run
    (``None`` where a run lacks it), in the order of the schema."""
    flats = [flatten(c) for c in configs]
    names: dict[str, None] = {}
    for flat in flats:
        names.update(dict.fromkeys(flat))
    return {
        name: [flat.get(name) for flat in flats]
        for name in names
        if len({json.dumps(flat.get(name), sort_keys=True) for flat in flats}) > 1
    }
