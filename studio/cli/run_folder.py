"""What the commands that read a finished run check first."""

from __future__ import annotations

from pathlib import Path

from studio.engine.runs import files
from studio.errors import StudioError


def require_run(run_dir: Path) -> None:
    if not run_dir.is_dir():
        raise StudioError(f"Run folder not found: {run_dir}")
    if not (run_dir / files.BEST).is_file():
        raise StudioError(f"{run_dir} holds no trained model yet: no epoch completed?")
