"""``studio watch RUN_DIR``: follow a run that another process is writing (a ``studio train``
here, or a server's run folder on a shared drive): its epochs, progress, the coach's alarms
and verdict, until the run ends. Ctrl-C leaves quietly; the run goes on.

Exit codes as ``studio train``'s: 0 the run finished, 1 it was stopped or failed, 130 the
watch was left before the end.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from studio.errors import StudioError


def add_parser(sub: argparse._SubParsersAction) -> None:
    watch = sub.add_parser(
        "watch",
        help="follow a run as it trains, from its run folder",
        description="Show a run's progress as another process writes its run folder.",
    )
    watch.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="the run folder to follow")
    watch.add_argument(
        "--interval", type=float, default=0.5, help="seconds between looks (default 0.5)"
    )


def run(args: argparse.Namespace) -> int:
    from studio.engine.control import StopToken
    from studio.engine.events import RunStatus
    from studio.engine.runs.follow import follow

    if not args.run_dir.is_dir():
        raise StudioError(f"Run folder not found: {args.run_dir}")
    if args.interval <= 0:
        raise StudioError("--interval must be more than 0 seconds")
    token = StopToken()
    previous = signal.signal(signal.SIGINT, lambda signum, frame: token.stop())
    try:
        final = follow(args.run_dir, _Screen(), token, args.interval)
    finally:
        signal.signal(signal.SIGINT, previous)
    if final is None:
        return 130
    return 0 if final.status == RunStatus.FINISHED else 1


class _Screen:
    """The training printer's lines, and on a terminal a progress line between them."""

    def __init__(self) -> None:
        from studio.cli.progress import Printer

        self.printer = Printer(quiet=False)
        self.live = sys.stdout.isatty()
        self.shown = False

    def __call__(self, event) -> None:
        from studio.engine.events import BatchEnded

        if isinstance(event, BatchEnded):
            if self.live:
                sys.stdout.write(
                    f"\r  epoch {event.epoch} · batch {event.batch}/{event.batches} · "
                    f"loss {event.loss:.4f}"
                )
                sys.stdout.flush()
                self.shown = True
            return
        if self.shown:
            sys.stdout.write("\r\033[K")  # the next line replaces the progress line
            self.shown = False
        self.printer(event)
