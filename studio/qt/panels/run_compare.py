"""Compare 2–5 runs: their validation curves overlaid, and a table of the settings that
differ with each run's best metrics. pyqtgraph loads on the first comparison.

Two runs also get the honest answer (:mod:`studio.engine.results.paired_compare`): the
accuracy difference on the same validation images with a bootstrap interval and McNemar's
exact test, in plain words, computed on a worker thread; different splits are refused."""

from __future__ import annotations

import json
from typing import Any, get_args

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.engine.runs.store import RunRecord, config_differences
from studio.qt.plot_colours import follow_palette
from studio.qt.steady import paint_with_window

COLOURS = ["#3b82f6", "#f97316", "#10b981", "#a855f7", "#ef4444"]
METRIC_ROWS = [
    ("Best epoch", lambda r: r.best_epoch),
    ("Best validation accuracy", lambda r: _pct(r.best_metrics.get("val_acc"))),
    ("Best validation loss", lambda r: _num(r.best_metrics.get("val_loss"))),
    ("Training accuracy then", lambda r: _pct(r.best_metrics.get("train_acc"))),
    ("Status", lambda r: r.status),
    ("Duration (s)", lambda r: _num(r.duration)),
]


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.4g}"


def setting_label(key: str) -> str:
    """A dotted config key in the words the settings panels use:
    ``train.learning_rate`` → "Learning rate", ``augment.rotate.p`` → "Rotate · Probability"."""
    from pydantic import BaseModel

    from studio.config import ProjectConfig

    schema: Any = ProjectConfig
    words = []
    for depth, part in enumerate(key.split(".")):
        info = schema.model_fields.get(part) if schema is not None else None
        title = (info.title if info is not None else None) or part.replace("_", " ").capitalize()
        if depth > 0 or len(key.split(".")) == 1:
            words.append(title)
        found = [info.annotation] if info is not None else []
        found += list(get_args(info.annotation)) if info is not None else []
        schema = next((t for t in found if isinstance(t, type) and issubclass(t, BaseModel)), None)
    return " · ".join(words)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value) if value is not None else "–"


class RunCompareView(QWidget):
    """``compareTable`` (rows: best metrics, then each differing setting; columns: runs)
    beside ``compareAccuracyPlot`` and ``compareLossPlot``; for two runs ``comparePairedLabel``
    says whether one is really better. ``paired(result)`` fires with the
    :class:`~studio.engine.results.paired_compare.PairedComparison`, or with the reason
    (a ``str``) when the runs cannot be paired."""

    paired = Signal(object)

    def __init__(self, parent: QWidget | None = None, tasks: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("runCompare")
        self.tasks = tasks  # a TaskRunner: the paired test runs on a worker thread
        self._generation = 0
        self.verdict = QLabel()
        self.verdict.setObjectName("comparePairedLabel")
        self.verdict.setAccessibleName("Is one run really better?")
        self.verdict.setWordWrap(True)
        self.verdict.hide()
        self.table = QTableWidget(0, 0)
        self.table.setObjectName("compareTable")
        self.table.setAccessibleName("Differences between runs")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.plots: dict[str, Any] = {}
        self._plot_row = QHBoxLayout()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.verdict)
        layout.addLayout(self._plot_row, 1)
        layout.addWidget(self.table, 1)
        self.differences: dict[str, list[Any]] = {}

    def _build_plots(self) -> None:
        if self.plots:
            return
        import pyqtgraph as pg

        for key, title, unit, name in (
            ("val_acc", "Validation accuracy", "accuracy (%)", "compareAccuracyPlot"),
            ("val_loss", "Validation loss", "loss", "compareLossPlot"),
        ):
            plot = pg.PlotWidget(title=title)
            paint_with_window(plot)
            plot.setObjectName(name)
            plot.setAccessibleName(title)
            plot.setMinimumHeight(180)
            plot.addLegend(offset=(-10, 10) if key == "val_loss" else (-10, -10))
            plot.setLabel("bottom", "epoch")
            plot.setLabel("left", unit)
            plot.showGrid(x=True, y=True, alpha=0.2)
            follow_palette(plot)  # background, axes, title and legend in the theme's colours
            self._plot_row.addWidget(plot)
            self.plots[key] = plot

    def show_runs(self, records: list[RunRecord], epochs: dict[int, list[dict]]) -> None:
        """Overlay ``records``' curves (``epochs`` by run id) and list their differences."""
        import pyqtgraph as pg

        self._build_plots()
        for key, plot in self.plots.items():
            plot.clear()
            for i, record in enumerate(records):
                rows = epochs.get(record.id, [])
                xs = [r["epoch"] for r in rows]
                ys = [r[key] * (100 if key == "val_acc" else 1) for r in rows]
                pen = pg.mkPen(COLOURS[i % len(COLOURS)], width=2)
                plot.plot(xs, ys, pen=pen, symbol="o", symbolSize=5, name=record.name)
        self.differences = config_differences([r.config for r in records])
        rows = [(label, [fn(r) for r in records]) for label, fn in METRIC_ROWS]
        rows += [(name, values) for name, values in self.differences.items()]
        self.table.clear()
        self.table.setColumnCount(len(records))
        self.table.setRowCount(len(rows))
        self.table.setHorizontalHeaderLabels([r.name for r in records])
        self.table.setVerticalHeaderLabels(
            [
                label if i < len(METRIC_ROWS) else setting_label(label)
                for i, (label, _) in enumerate(rows)
            ]
        )
        for i, (key, _) in enumerate(rows[len(METRIC_ROWS) :], start=len(METRIC_ROWS)):
            self.table.verticalHeaderItem(i).setToolTip(key)  # the config key, for the CLI
        for row, (_, values) in enumerate(rows):
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(_text(value)))
        self._generation += 1
        pair = [r.run_dir for r in records if r.run_dir]
        if len(records) == 2 and len(pair) == 2 and self.tasks is not None:
            self._compare_pair(pair[0], pair[1])
        else:
            self.verdict.setVisible(len(records) == 2)
            self.verdict.setText("Select exactly two runs with run folders for a paired test.")

    def _compare_pair(self, run_a: str, run_b: str) -> None:
        generation = self._generation
        self.verdict.setText("Comparing the two runs on the same validation images…")
        self.verdict.show()

        def job() -> Any:
            from studio.engine.results.paired_compare import compare_runs

            return compare_runs(run_a, run_b)

        def done(result: Any) -> None:
            if generation == self._generation:
                self.verdict.setText(
                    f"{result.text} ({result.a} {result.accuracy_a:.1%}, "
                    f"{result.b} {result.accuracy_b:.1%} on {result.images} images)"
                )
                self.paired.emit(result)

        def failed(exc: Exception) -> None:
            if generation == self._generation:
                self.verdict.setText(f"No paired test: {exc}")
                self.paired.emit(str(exc))

        self.tasks.start(job, done, failed)
