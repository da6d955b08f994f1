"""The run history's SQLite tables, their migrations and its transactions.

Every change is one transaction and the journal is in WAL mode, so a process killed at any
moment leaves the database consistent.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from studio.engine.runs.eventlog import coach_verdict
from studio.errors import StudioError

DB_FILE = "runs.sqlite"
STORE_VERSION = 2  # PRAGMA user_version: bump with a migration when the tables change
METRICS = ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds", "images_per_second")

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


class Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any error."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


def set_up(db: sqlite3.Connection, path: Path) -> None:
    """Open ``db`` for writing: WAL journal, foreign keys, the tables of
    :data:`STORE_VERSION` (created or migrated in one transaction)."""
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    check_version(db, path)
    with Transaction(db):
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        _migrate(db)
        db.execute(f"PRAGMA user_version={STORE_VERSION}")


def check_version(db: sqlite3.Connection, path: Path) -> None:
    """Refuse (and close) a database written by a newer Studio."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > STORE_VERSION:
        db.close()
        raise StudioError(f"the run history {path} is from a newer Studio: update Studio")


def _migrate(db: sqlite3.Connection) -> None:
    """Bring a database from an older Studio up to :data:`STORE_VERSION` (inside the
    opening transaction). Version 2 adds the coach's verdict, read back from the
    ``events.jsonl`` of runs recorded before."""
    columns = {r["name"] for r in db.execute("PRAGMA table_info(runs)")}
    if "verdict" not in columns:
        db.execute("ALTER TABLE runs ADD COLUMN verdict TEXT NOT NULL DEFAULT ''")
        rows = db.execute("SELECT id, run_dir FROM runs WHERE run_dir != ''")
        for run_id, run_dir in rows.fetchall():
            if verdict := coach_verdict(Path(run_dir)):
                db.execute("UPDATE runs SET verdict=? WHERE id=?", (verdict, run_id))


def insert_epoch(
    db: sqlite3.Connection, run_id: int, epoch: int, metrics: dict[str, float], replace: bool
) -> None:
    """One row of ``epochs`` (``replace``: over the one already there for ``epoch``)."""
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    db.execute(
        f"{verb} INTO epochs (run_id, epoch, {', '.join(METRICS)}) "
        f"VALUES (?, ?, {', '.join('?' * len(METRICS))})",
        (run_id, epoch, *[metrics.get(k) for k in METRICS]),
    )


def is_damaged(exc: sqlite3.DatabaseError) -> bool:
    """Only when SQLite says the file is corrupt or not a database; otherwise (read-only,
    full disk, locked, cannot open) the file itself may well be healthy."""
    name = getattr(exc, "sqlite_errorname", "")
    return name in ("SQLITE_CORRUPT", "SQLITE_NOTADB")
