"""The one place that names a run folder's files; nothing else spells them.

A run folder holds what a run wrote (config, split, events, checkpoints, the best model) and
what was done with it later (evaluation results, exports).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

CONFIG = "config.json"  # the resolved settings the run used
ENVIRONMENT = "environment.json"  # device, versions
SPLIT = "split.json"  # which file went to which split, and the counts
EVENTS = "events.jsonl"  # every event, one JSON object a line
BEST = "best.safetensors"  # the best epoch's weights
MODEL = "model.json"  # what the best weights need: classes, size, normalisation
LAST = "last.json"  # pointer to the latest resumable checkpoint
RESULTS = "results.json"  # evaluations done after training
LOCK = "run.lock"  # the pid of the process that owns the run while it trains
TENSORBOARD = "tensorboard"  # TensorBoard event files, when the run logs to TensorBoard
MLFLOW_STORE = "mlflow.db"  # beside the run folders: the MLflow store of all their runs
MLFLOW_ARTIFACTS = "mlflow-artifacts"  # beside it: what those MLflow runs keep (best models)
STOP_REQUEST = "stop.request"  # written by a window following the run: stop after this batch

# what a run leaves behind, for listing and deleting
RUN_FILES = (BEST, MODEL, LAST, CONFIG, SPLIT, ENVIRONMENT, EVENTS)


def holds_run(folder: Path) -> bool:
    """Whether ``folder`` already holds a run (its settings, events or best model)."""
    return any((folder / name).exists() for name in (CONFIG, EVENTS, BEST))


def last_files(epoch: int) -> tuple[str, str]:
    """The weights and training-state files of epoch ``epoch``'s ``last`` checkpoint."""
    return f"last-{epoch:04d}.safetensors", f"last-{epoch:04d}.pt"


def feature_cache(key: str) -> str:
    return f"features-{key}.safetensors"


def runs_root() -> Path:
    """Where runs outside a project go: ``$STUDIO_HOME/runs``, else the runs folder in
    Studio's app-data folder (where Qt's ``AppDataLocation`` puts it for the window), never
    the current directory."""
    home = os.environ.get("STUDIO_HOME")
    if home:
        return Path(home) / "runs"
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "Studio" / "runs"


def new_run_dir(root: Path) -> Path:
    """A fresh run folder under ``root`` named after the time (``20261124-103839``), with a
    ``-2``, ``-3``… suffix when two runs start within the same second. Created here."""
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1, 10_000):
        candidate = root / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"No free run folder name under {root}")
