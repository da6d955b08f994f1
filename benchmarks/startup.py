"""Time from launching Studio to a painted main window, on a warm start.

Each sample is a fresh interpreter; the clock runs from spawning it until the window has been
shown and painted once. Compares the real start-up path (plots and torch load after the
window appears) with building everything first, and with a bare interpreter.

    uv run python benchmarks/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

PROGRAMS = {
    "python -c pass (floor)": "pass",
    "studio start-up path": (
        "from studio.qt.app import create_app, show_main_window\n"
        "app = create_app([]); window = show_main_window(app)\n"
    ),
    "eager window (pyqtgraph before show)": (
        "from studio.qt.app import create_app\n"
        "from studio.qt.main_window import MainWindow\n"
        "app = create_app([]); window = MainWindow(); window.show(); app.processEvents()\n"
    ),
}


def sample(code: str) -> float:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code + "\nprint('shown', flush=True)"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - start
    proc.kill()
    proc.wait()
    assert line.strip() == "shown", line
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    for code in PROGRAMS.values():  # warm the file cache
        sample(code)
    results = {}
    for name, code in PROGRAMS.items():
        times = [sample(code) for _ in range(args.runs)]
        results[name] = statistics.median(times)
        print(
            f"{name:40s} median {results[name]:.3f} s  (min {min(times):.3f}, "
            f"max {max(times):.3f}, n={args.runs})"
        )
    ratio = results["eager window (pyqtgraph before show)"] / results["studio start-up path"]
    print(f"start-up path is {ratio:.2f}x faster to a visible window than the eager build")


if __name__ == "__main__":
    main()
