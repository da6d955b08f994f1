"""Cost of one plot refresh with a million per-batch points (target: under 8 ms).

Builds the real TrainingPlots offscreen at a typical size, streams 1,000,000 batch points and
100 epochs into it, then times one tick of the redraw clock while streaming (50 new batch
points a tick, a new epoch every fifth tick): refresh() plus the paint it schedules, for both
plots. Compares Studio's drawing (decimated EMA curve, peak downsampling, clip to view) with
the same curves drawn point by point, in one run.

    uv run python benchmarks/plot_refresh.py [--points 1000000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studio.engine.events import BatchEnded, EpochEnded
from studio.qt.app import create_app
from studio.qt.panels.plots import TrainingPlots


def make_plots(points: int, naive: bool) -> TrainingPlots:
    plots = TrainingPlots()
    plots.resize(1100, 500)
    plots.show()
    plots.build()
    plots.reset(epochs=100)
    per_epoch = points // 100
    for epoch in range(1, 101):
        plots.add_batches(
            [
                BatchEnded(epoch, b, per_epoch, 1 / (epoch + b / per_epoch), 0.5)
                for b in range(1, per_epoch + 1)
            ]
        )
        plots.add_epoch(
            EpochEnded(epoch, 100, 1 / epoch, 1.2 / epoch, 0.9, 0.8, 1e-3, 1.0, 100.0, epoch)
        )
    plots.finish()  # stop the redraw clock: the benchmark drives refreshes itself
    if naive:
        import studio.qt.panels.plots as module

        module.MAX_DRAWN = 10**9
        for kind in plots.KINDS:
            curve = plots.curves[(kind, "batch")]
            curve.setDownsampling(auto=False, ds=1)
            curve.setClipToView(False)
    return plots


def time_refresh(plots: TrainingPlots, app, repeats: int) -> float:
    samples = []
    for i in range(repeats):
        plots.add_batches([BatchEnded(100, 1, 10**6, 0.01, 0.5)] * 50)  # a tick's new batches
        if i % 5 == 0:
            plots.add_epoch(EpochEnded(100, 100, 0.01, 0.012, 0.9, 0.8, 1e-3, 1.0, 100.0, 100))
        start = time.perf_counter()
        plots.refresh()  # what the 20 Hz timer does...
        app.processEvents()  # ...and the paint it schedules
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    app = create_app([])
    results = {}
    for naive in (False, True):
        plots = make_plots(args.points, naive)
        time_refresh(plots, app, 2)  # warm-up
        results[naive] = time_refresh(plots, app, args.repeats)
        plots.close()
    print(f"{args.points:,} batch points + 100 epochs, both plots, refresh + repaint:")
    print(f"  studio (decimated, downsampled, clipped): {results[False]:7.2f} ms")
    print(f"  naive (every point drawn):                {results[True]:7.2f} ms")
    print(f"  ratio: {results[True] / results[False]:.1f}x faster")


if __name__ == "__main__":
    main()
