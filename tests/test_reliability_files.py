"""Reliability of written files: the user's umask, no temp files left by a killed write, and
a run history on read-only media that is read, not called damaged."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest

from studio.config import ProjectConfig
from studio.config.io import PROJECT_FILE, load_project, save_project
from studio.engine.runs.store import DB_FILE, RunStore
from studio.errors import StudioError
from studio.fileio import atomic_write_text, current_umask

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


@pytest.fixture
def umask():
    def set_mask(mask: int) -> None:
        os.umask(mask)

    before = os.umask(0o022)
    yield set_mask
    os.umask(before)


@posix_only
@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_files_are_created_with_the_users_umask(tmp_path, umask, mask, mode):
    umask(mask)
    assert current_umask() == mask
    atomic_write_text(tmp_path / "a.json", "{}")
    save_project(tmp_path / "proj", ProjectConfig())
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == mode
    assert (tmp_path / "proj" / PROJECT_FILE).stat().st_mode & 0o777 == mode


@posix_only
def test_a_rewritten_file_keeps_its_permissions(tmp_path, umask):
    path = tmp_path / "a.json"
    path.write_text("old")
    path.chmod(0o640)
    atomic_write_text(path, "new")
    assert path.read_text() == "new" and path.stat().st_mode & 0o777 == 0o640


def test_a_killed_saves_temp_file_is_removed_when_the_project_opens(tmp_path: Path):
    save_project(tmp_path, ProjectConfig())
    old = tmp_path / f".{PROJECT_FILE}.abc123.tmp"
    fresh = tmp_path / f".{PROJECT_FILE}.def456.tmp"  # maybe another process saving now
    for path in (old, fresh):
        path.write_text("half a file")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    load_project(tmp_path)
    assert not old.exists() and fresh.exists()


def _failing_open(name: str):
    def fail(self) -> None:
        exc = sqlite3.OperationalError(name)
        exc.sqlite_errorname = name
        raise exc

    return fail


@pytest.mark.parametrize("error", ["SQLITE_READONLY", "SQLITE_FULL", "SQLITE_CANTOPEN"])
def test_a_healthy_history_on_read_only_media_is_read_not_damaged(tmp_path, monkeypatch, error):
    with RunStore(tmp_path) as store:
        run_id = store.create_run({}, tmp_path / "runs" / "a", model="small_cnn")
    monkeypatch.setattr(RunStore, "_open", _failing_open(error))  # as media that cannot write
    with RunStore(tmp_path) as store:
        assert store.read_only and [r.id for r in store.runs()] == [run_id]
        assert store.get(run_id).run_dir == str(tmp_path / "runs" / "a")


def test_only_sqlite_calls_a_history_damaged(tmp_path, monkeypatch):
    monkeypatch.setattr(RunStore, "_open", _failing_open("SQLITE_READONLY"))
    with pytest.raises(StudioError, match="cannot open the run history") as info:
        RunStore(tmp_path)  # no history there to show
    assert "damaged" not in str(info.value)
    (tmp_path / DB_FILE).write_bytes(b"not a database" * 100)
    monkeypatch.undo()
    with pytest.raises(StudioError, match="is damaged"):
        RunStore(tmp_path)
