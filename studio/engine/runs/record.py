"""One run of the history as the program sees it, decoded from its database row."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from importlib import metadata
from pathlib import Path
from typing import Any

from studio.engine.events import RunStatus
from studio.engine.runs import files

PACKAGES = ("torch", "torchvision", "albumentations", "studio")


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


def decode(row: sqlite3.Row) -> RunRecord:
    """A ``runs`` row as a record (paths as stored, the owning process left out)."""
    data = dict(row)
    for key in ("config", "split", "best_metrics", "versions", "artifacts"):
        data[key] = json.loads(data[key] or "{}")
    data.pop("pid", None)
    data.pop("host", None)
    data["status"] = RunStatus(data["status"])
    return RunRecord(**data)


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that decide a run's outcome (no imports)."""
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found
