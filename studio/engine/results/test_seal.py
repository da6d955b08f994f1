"""The sealed test split of a project: every look at it is counted and dated.

A test score stays an honest estimate only while nothing was chosen by it. Studio keeps the
test split sealed while you iterate; evaluating on it is a deliberate unseal, recorded in the
project folder's ``test-seal.json`` with the settings the model was trained with, so later
runs can say how many times the test set has been seen and warn when settings changed after
a peek. A run outside a project counts its looks in its own folder only.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from studio.config import ProjectConfig
from studio.engine.runs import files
from studio.fileio import atomic_write_text

SEAL = "test-seal.json"
PROJECT_FILE = "studio-project.toml"
# where a run ran and how fast, not what it learnt
IGNORED = ("train.device", "train.num_workers", "train.mixed_precision")


@dataclasses.dataclass(frozen=True)
class Look:
    """One unseal: when (``at``, seconds since the epoch), which run, its settings."""

    at: float
    run: str
    settings: dict[str, Any]

    @property
    def when(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(self.at))


def project_of(run_dir: str | Path) -> Path | None:
    """The project a run folder belongs to (``PROJECT/runs/<run>``), or ``None``."""
    project = Path(run_dir).resolve().parent.parent
    return project if (project / PROJECT_FILE).is_file() else None


def looks(project: Path | None) -> list[Look]:
    """Every recorded look at ``project``'s test split, oldest first."""
    if project is None:
        return []
    try:
        data = json.loads((Path(project) / SEAL).read_text(encoding="utf-8"))
        return [Look(float(x["at"]), str(x["run"]), dict(x["settings"])) for x in data["looks"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def record_look(run_dir: str | Path, config: ProjectConfig) -> list[Look]:
    """Count one more look at the test split for the run's project (nothing outside one);
    returns the project's looks, this one last."""
    project = project_of(run_dir)
    if project is None:
        return []
    seen = [*looks(project), Look(time.time(), Path(run_dir).name, _settings(config))]
    payload = {"looks": [dataclasses.asdict(x) for x in seen]}
    atomic_write_text(project / SEAL, json.dumps(payload, indent=1, ensure_ascii=False))
    return seen


def changed_since_look(seen: list[Look], config: ProjectConfig) -> list[str]:
    """The settings (dotted names) of ``config`` that differ from those the model of the last
    look in ``seen`` was trained with: what was changed after peeking at the test set."""
    if not seen:
        return []
    before, now = seen[-1].settings, _settings(config)
    return [name for name in now if json.dumps(now[name]) != json.dumps(before.get(name))]


def run_started_after_look(run_dir: Path, project: Path | None) -> bool:
    """Whether the run began after the project's test set was first looked at."""
    seen = looks(project)
    config = Path(run_dir) / files.CONFIG
    return bool(seen) and config.is_file() and config.stat().st_mtime > seen[0].at


def _settings(config: ProjectConfig) -> dict[str, Any]:
    from studio.engine.runs.config_diff import flatten

    flat = flatten(config.model_dump(mode="json"))
    return {k: v for k, v in flat.items() if k not in IGNORED}


def describe(project: Path | None, per_run: int = 0) -> str:
    """One line: sealed, or how many times and when the test set was looked at."""
    seen = looks(project)
    if project is None:
        return f"Test set looked at {per_run} time(s) for this run." if per_run else ""
    if not seen:
        return "Test set sealed: not looked at yet in this project."
    times = "once" if len(seen) == 1 else f"{len(seen)} times"
    return f"Test set unsealed {times} in this project (last {seen[-1].when}, run {seen[-1].run})."
