"""The live plots' redraw clock: one plot a tick, and an axis that is set before it moves."""

from __future__ import annotations

import math

from studio.engine.events import BatchEnded
from studio.qt.panels.plots import TrainingPlots


def _plots(qtbot) -> TrainingPlots:
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.build()
    plots.reset(epochs=2)
    return plots


def _points(plots: TrainingPlots, kind: str) -> int:
    data = plots.curves[(kind, "batch")].xData
    return 0 if data is None else len(data)


def test_each_tick_redraws_one_plot_in_turn(qtbot):
    """Two plots' redraws back to back stalled the window: a tick draws one, the next the
    other, so each plot still redraws ten times a second."""
    plots = _plots(qtbot)
    plots.add_batches([BatchEnded(1, b, 10, 1.0, 0.5) for b in range(1, 4)])
    drawn: list[tuple[int, int]] = []
    for _ in range(2):
        with qtbot.waitSignal(plots.refreshed, timeout=1_000):
            pass  # the 20 Hz clock ticks
        drawn.append((_points(plots, "loss"), _points(plots, "accuracy")))
    assert drawn[0] in ((3, 0), (0, 3))  # one plot first
    assert drawn[1] == (3, 3)  # the other at the next tick
    plots.finish()


def test_the_loss_axis_starts_where_a_guessing_model_is(qtbot):
    """A fresh model's loss is about ln(classes): the axis is set when the run starts and
    the first batches do not move it."""
    plots = _plots(qtbot)
    plots.expect(epochs=2, classes=5)
    plots.refresh()
    box = plots.plots["loss"].getPlotItem().getViewBox()
    top = box.viewRange()[1][1]
    assert top >= math.log(5)
    plots.add_batches([BatchEnded(1, 1, 10, 1.55, 0.2), BatchEnded(1, 2, 10, 1.6, 0.2)])
    plots.refresh()
    assert box.viewRange()[1][1] == top
    plots.finish()
