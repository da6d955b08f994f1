"""Scanning, checking and browsing 100,000 images.

Generates a tree of tiny PNG files (one small image's bytes written again and again: fast),
then times: the folder scan (no file read), the health check (read, hash, decode and perceptual
hash of every file, in the background in the app), the thumbnail grid's first paint, and the
longest event-loop stall (gap of a 10 ms QTimer) while scrolling through every thumbnail.

    uv run python benchmarks/scan_speed.py [--files 100000] [--check-files 20000]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def generate(root: Path, files: int, classes: int = 10, per_folder: int = 500) -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (24, 24), (90, 140, 200)).save(buffer, "PNG")
    data = buffer.getvalue()
    for n in range(files):
        folder = root / f"class_{n % classes}" / f"batch_{n // (classes * per_folder)}"
        if n % (classes * per_folder) < classes:
            folder.mkdir(parents=True, exist_ok=True)
        (folder / f"img_{n:06d}.png").write_bytes(data)


def time_scan(root: Path):
    from studio.engine.data.index import scan_folders

    started = time.perf_counter()
    index = scan_folders([root])
    return index, time.perf_counter() - started


def time_check(index, limit: int) -> tuple[float, int]:
    from studio.engine.data.health import check_health

    subset = index.subset(range(min(limit, len(index))))
    started = time.perf_counter()
    check_health(subset)
    return time.perf_counter() - started, len(subset)


def time_grid(index) -> tuple[float, float, int, int]:
    """(first paint ms, longest timer gap ms while scrolling, pages scrolled, cache size)."""
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    from studio.qt.panels.thumbnail_grid import ThumbnailModel, make_grid_view
    from studio.qt.tasks import TaskRunner

    app = QApplication.instance() or QApplication([])
    tasks = TaskRunner()
    model = ThumbnailModel(tasks)
    painted: list[float] = []

    class PaintProbe(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint and not painted:
                painted.append(time.perf_counter())
            return False

    started = time.perf_counter()
    model.set_index(index)
    view = make_grid_view(model)
    probe = PaintProbe()
    view.viewport().installEventFilter(probe)
    view.resize(900, 700)
    view.show()
    while not painted:
        app.processEvents()
    first_paint = (painted[0] - started) * 1000

    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer(interval=10)
    timer.timeout.connect(tick)
    bar = view.verticalScrollBar()
    pages = [0]

    def scroll() -> None:
        if bar.value() >= bar.maximum():
            app.quit()
            return
        bar.setValue(bar.value() + bar.pageStep())
        pages[0] += 1

    scroller = QTimer(interval=16)  # one page per frame: a fast fling through everything
    scroller.timeout.connect(scroll)
    last[0] = time.perf_counter()
    timer.start()
    scroller.start()
    app.exec()
    timer.stop()
    scroller.stop()
    tasks.wait_all()
    longest = max(gaps[1:], default=0.0) * 1000
    return first_paint, longest, pages[0], len(model.cache)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--check-files", type=int, default=20_000, help="files to hash/decode")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["STUDIO_HOME"] = str(Path(tmp) / "home")  # thumbnail disk cache
        root = Path(tmp) / "data"
        started = time.perf_counter()
        generate(root, args.files)
        print(f"generated {args.files:,} files in {time.perf_counter() - started:.1f} s")
        index, seconds = time_scan(root)
        print(f"scan (no file read): {len(index):,} images in {seconds:.2f} s  (target < 5 s)")
        seconds, n = time_check(index, args.check_files)
        print(
            f"health check (read, hash, decode, dHash): {n:,} files in {seconds:.2f} s "
            f"= {n / seconds:,.0f} files/s -> {args.files / (n / seconds):.0f} s for all"
        )
        first, longest, pages, cached = time_grid(index)
        print(f"grid first paint: {first:.0f} ms  (target < 300 ms)")
        print(
            f"scrolling {pages:,} pages: longest event-loop stall {longest:.0f} ms "
            f"(target < 50 ms); thumbnails in memory {cached:,} (bounded)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
