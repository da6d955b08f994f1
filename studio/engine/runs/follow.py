"""Following a run that another process is writing: its ``events.jsonl`` read as it grows,
and a stop request that process honours.

The log may be on a shared or mounted folder: a partial last line waits for its newline, and
a folder that disappears (an unmounted share) is simply looked for again at the next poll.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from studio.engine.control import StopToken
from studio.engine.events import Event, EventSink, RunFinished, from_dict
from studio.engine.runs import files
from studio.engine.runs.eventlog import decode
from studio.errors import StudioError
from studio.fileio import atomic_write_text

READ_LIMIT = 4 << 20  # bytes read per poll, so that a long log arrives in steps


class EventTail:
    """The events appended to ``run_dir``'s log since the last :meth:`poll`.

    Reads from a byte offset, so each poll costs what was appended; a log that became shorter
    was replaced and is read again from its start. Lines that are not events Studio knows
    (damaged, or written by a newer version) are counted in ``skipped`` and left out.
    """

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / files.EVENTS
        self.finished: RunFinished | None = None  # once the run's last event was read
        self.more = False  # whether the last poll stopped at READ_LIMIT
        self.skipped = 0
        self._offset = 0
        self._pending = b""  # a last line still waiting for its newline

    def poll(self) -> list[Event]:
        try:
            with self.path.open("rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size < self._offset:
                    self._offset, self._pending = 0, b""
                handle.seek(self._offset)
                data = handle.read(min(size - self._offset, READ_LIMIT))
        except OSError:  # not written yet, or the folder is gone for now
            self.more = False
            return []
        self._offset += len(data)
        self.more = self._offset < size
        *lines, self._pending = (self._pending + data).split(b"\n")
        events = [e for e in map(self._event, lines) if e is not None]
        for event in events:
            if isinstance(event, RunFinished):
                self.finished = event
        return events

    def _event(self, line: bytes) -> Event | None:
        if not line.strip():
            return None
        try:
            return from_dict(decode(line.decode("utf-8")))
        except (ValueError, KeyError, TypeError):
            self.skipped += 1
            return None


def follow(
    run_dir: Path, sink: EventSink, token: StopToken, interval: float = 0.25
) -> RunFinished | None:
    """Send every event of ``run_dir``'s log to ``sink``, the past ones first, then each as it
    is written, until ``run_finished`` (returned) or until ``token`` stops (``None``)."""
    tail = EventTail(run_dir)
    while not token.stop_requested:
        for event in tail.poll():
            sink(event)
        if tail.finished is not None:
            return tail.finished
        if not tail.more:
            token.wait(interval)
    return None


def request_stop(run_dir: Path) -> None:
    """Ask the process training into ``run_dir`` to stop after its current batch."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise StudioError(f"Cannot reach the run folder {run_dir}: the stop was not sent") from None
    try:
        atomic_write_text(
            run_dir / files.STOP_REQUEST, f"{socket.gethostname()} {os.getpid()} {time.time()}\n"
        )
    except OSError as exc:
        message = f"Cannot write to {run_dir}: {exc.strerror}; the stop was not sent"
        raise StudioError(message) from None


class StopRequest:
    """Whether a stop request was written into ``run_dir``; asked between batches (a file
    check costs microseconds, a batch milliseconds or more)."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / files.STOP_REQUEST

    def clear(self) -> None:
        """Forget an old request (from a run that ended before it was read)."""
        self.path.unlink(missing_ok=True)

    def __call__(self) -> bool:
        return self.path.exists()
