"""``studio scan``: run the health check on folders and print it, readable or as JSON."""

from __future__ import annotations

import json
import signal
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from studio.engine.control import StopToken
from studio.engine.data.health import HealthReport, check_health
from studio.engine.data.index import scan_folders
from studio.engine.data.problems import KIND_TITLES
from studio.engine.events import CheckProgress, Event
from studio.errors import StudioError


def run_scan(folders: Sequence[Path], as_json: bool, read_files: bool = True) -> int:
    """Scan, check and print; returns the exit code (0: the scan ran). Bad input raises
    :class:`StudioError`, which the CLI prints as one line with exit code 2."""
    index = scan_folders(folders)
    if len(index) == 0 and not index.unsupported:
        where = ", ".join(str(f) for f in folders)
        raise StudioError(f"No images found in {where}.")
    token = StopToken()
    previous = signal.signal(signal.SIGINT, lambda *_: token.stop())
    try:
        progress = None if as_json or not sys.stderr.isatty() else _progress
        report = check_health(index, progress, token, read_files=read_files)
    finally:
        signal.signal(signal.SIGINT, previous)
    if as_json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(summary(report))
    return 0


def summary(report: HealthReport) -> str:
    """The report in plain words, grouped by problem kind."""
    lines = [f"{len(report.classes)} classes, {sum(report.classes.values()):,} usable images"]
    width = max((len(name) for name in report.classes), default=0)
    for name, count in report.classes.items():
        lines.append(f"  {name:<{width}}  {count:>7,}")
    if report.sizes:
        s = report.sizes
        lines.append(
            f"Image sizes: width {s.min_width}/{s.median_width}/{s.max_width}, height "
            f"{s.min_height}/{s.median_height}/{s.max_height} (min/median/max); "
            f"suggested image size {s.suggested_size}"
        )
    if report.cancelled:
        lines.append(f"Stopped early: {report.checked:,} of {report.files:,} files checked.")
    tally = Counter(p.kind for p in report.problems)
    if not tally:
        lines.append("No problems found.")
    for kind, title in KIND_TITLES.items():
        if tally[kind]:
            lines.append(f"{title} ({tally[kind]}):")
            lines.extend(f"  {p.path}: {p.detail}" for p in report.problems if p.kind == kind)
    return "\n".join(lines)


def _progress(event: Event) -> None:
    if isinstance(event, CheckProgress):
        end = "\n" if event.done == event.total else ""
        print(f"\rChecking {event.done:,}/{event.total:,} files", end=end, file=sys.stderr)
