"""A run's event stream (``events.jsonl``), written as it happens and read back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO

from studio.engine.events import EpochEnded, Event, from_dict
from studio.engine.runs import files


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
        return [decode(line) for line in handle if line.strip()]


def decode(line: str) -> dict:
    """One line of ``events.jsonl`` as its JSON object (``ValueError`` when it is not one)."""
    data = json.loads(line)
    if not isinstance(data, dict):
        raise ValueError(f"not an event: {line[:80]!r}")
    return data


def past_epochs(run_dir: Path) -> list[EpochEnded]:
    """The epochs a run's ``events.jsonl`` records (``OSError``, ``ValueError`` when it cannot
    be read)."""
    events = read_events(run_dir / files.EVENTS)
    return [from_dict(e) for e in events if e.get("event") == EpochEnded.name]


def coach_verdict(run_dir: Path) -> str:
    """The coach's final verdict recorded in a run's ``events.jsonl`` (``""`` if none)."""
    try:
        events = read_events(run_dir / files.EVENTS)
    except (OSError, ValueError):
        return ""
    return next((e["text"] for e in reversed(events) if e.get("event") == "coach_verdict"), "")
