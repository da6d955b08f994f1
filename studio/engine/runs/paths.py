"""Paths in the run history: relative to the project folder when inside it, so the history
moves with the folder; absolute again when read back."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from studio.engine.runs.record import RunRecord


def stored(folder: Path, path: Path | str) -> str:
    """``path`` as the history keeps it: relative to ``folder`` inside it, else absolute."""
    if not str(path):
        return ""
    full, base = Path(os.path.abspath(path)), Path(os.path.abspath(folder))
    for inside, parent in ((full, base), (Path(path).resolve(), folder.resolve())):
        if inside.is_relative_to(parent):  # as given, or through links (/tmp on macOS)
            return inside.relative_to(parent).as_posix()
    return str(full)


def stored_paths(folder: Path, paths: dict[str, str] | None) -> dict[str, str]:
    return {k: stored(folder, v) for k, v in (paths or {}).items()}


def stored_config(folder: Path, config: dict[str, Any]) -> dict[str, Any]:
    """A run's settings with their paths stored as a project's config stores them."""
    from studio.config.io import map_paths, stored_path

    return map_paths(config, lambda p: stored_path(p, folder, levels=1))


def absolute(folder: Path, value: str) -> str:
    """A stored path read back (``""`` stays empty)."""
    if not value:
        return ""
    path = Path(value)
    return str(path if path.is_absolute() else Path(os.path.abspath(folder / path)))


def read_back(folder: Path, record: RunRecord) -> RunRecord:
    """``record`` with its run folder, files and settings' paths absolute again."""
    from studio.config.io import map_paths, read_path

    record.run_dir = absolute(folder, record.run_dir)
    record.artifacts = {k: absolute(folder, v) for k, v in record.artifacts.items()}
    record.config = map_paths(record.config, lambda p: str(read_path(p, folder)))
    return record
