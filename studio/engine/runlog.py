"""Run folders: the ``events.jsonl`` stream, written as it happens and read back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO

from studio.engine.events import Event


class JsonlWriter:
    """An event sink appending one JSON object per line; each line is flushed as written."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._handle: IO[str] = path.open("a", encoding="utf-8")

    def __call__(self, event: Event) -> None:
        self._handle.write(json.dumps(event.to_dict()) + "\n")
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()


def read_events(path: Path) -> list[dict]:
    """Parse an ``events.jsonl`` file."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def new_run_dir(root: Path) -> Path:
    """A fresh run folder under ``root`` named after the time (``20261124-103839``), with a
    ``-2``, ``-3``… suffix when two runs start within the same second. Created here."""
    import time

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
