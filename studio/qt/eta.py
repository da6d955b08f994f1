"""Time left in a run, from the pace of the batches done so far; paused time does not count."""

from __future__ import annotations

import time
from collections.abc import Callable


class Eta:
    """``start()`` at each run, ``pause()``/``resume()`` as the user holds training, and
    ``remaining(done, total)`` after each report of batches. The pace is measured from the
    first report on (model loading and a resumed run's earlier batches are left out)."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        self.start()

    def start(self) -> None:
        self._first: tuple[float, int] | None = None  # (time, batches done) at the first report
        self._paused_at: float | None = None
        self._paused = 0.0

    def pause(self) -> None:
        if self._paused_at is None:
            self._paused_at = self.clock()

    def resume(self) -> None:
        if self._paused_at is not None:
            self._paused += self.clock() - self._paused_at
            self._paused_at = None

    def remaining(self, done: int, total: int) -> float | None:
        """Seconds left, or None until a second report gives a pace."""
        now = self.clock()
        if self._first is None:
            self._first = (now, done)
            self._paused = 0.0
            return None
        began, done_then = self._first
        held = self._paused + (now - self._paused_at if self._paused_at is not None else 0.0)
        batches = done - done_then
        if batches <= 0:
            return None
        return (now - began - held) / batches * max(0, total - done)


def clock(seconds: float) -> str:
    """``seconds`` as a clock reads: ``0:42``, ``12:05``, ``1:02:03``."""
    seconds = max(0, round(seconds))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
