"""Live loss and accuracy plots, redrawn on a timer from preallocated buffers.

pyqtgraph is imported in :meth:`TrainingPlots.build`, not at module import, so the window
can be shown before it loads.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

TRAIN_COLOR = "#3b82f6"
VAL_COLOR = "#f97316"
REFRESH_MS = 50  # 20 Hz
SMOOTHING = 0.9  # exponential moving average of the per-batch training values


class Series:
    """A growable pair of float buffers: appends are amortised O(1), :meth:`arrays` returns
    views (no copy). numpy is imported on the first append, after the window is up."""

    def __init__(self) -> None:
        self._x = self._y = None
        self.size = 0

    def append(self, x: float, y: float) -> None:
        import numpy as np

        if self._x is None:
            self._x, self._y = np.empty(256), np.empty(256)
        elif self.size == len(self._x):
            self._x = np.resize(self._x, 2 * self.size)
            self._y = np.resize(self._y, 2 * self.size)
        self._x[self.size] = x
        self._y[self.size] = y
        self.size += 1

    def clear(self) -> None:
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def arrays(self):
        if self._x is None:
            return [], []
        return self._x[: self.size], self._y[: self.size]

    @property
    def y(self) -> list[float]:
        return self.arrays()[1].tolist() if self.size else []


class TrainingPlots(QWidget):
    """Two plots (``lossPlot``, ``accuracyPlot``), each with train and validation per-epoch
    curves, a faint smoothed per-batch training curve and a best-epoch marker."""

    KINDS = ("loss", "accuracy")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.series = {
            (kind, part): Series() for kind in self.KINDS for part in ("train", "val", "batch")
        }
        self.curves: dict[tuple[str, str], object] = {}
        self.plots: dict[str, object] = {}
        self.best_lines: dict[str, object] = {}
        self.best_epoch: int | None = None
        self._smoothed: dict[str, float | None] = {"loss": None, "accuracy": None}
        self._dirty = False
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._placeholder = QLabel("Loading plots…")
        self._layout.addWidget(self._placeholder)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)

    @property
    def built(self) -> bool:
        return bool(self.plots)

    def build(self) -> None:
        """Import pyqtgraph and create the plot widgets (once)."""
        if self.built:
            return
        import pyqtgraph as pg

        palette = self.palette()
        background = palette.color(QPalette.ColorRole.Base)
        foreground = palette.color(QPalette.ColorRole.Text)
        self._layout.removeWidget(self._placeholder)
        self._placeholder.deleteLater()
        titles = {
            "loss": ("Loss", "lower is better"),
            "accuracy": ("Accuracy (%)", "higher is better"),
        }
        for kind in self.KINDS:
            widget = pg.PlotWidget()
            widget.setObjectName(f"{kind}Plot")
            widget.setAccessibleName(f"{titles[kind][0]} plot")
            widget.setBackground(background)
            item = widget.getPlotItem()
            item.setTitle(
                f"{titles[kind][0]} <span style='color:gray'>({titles[kind][1]})</span>",
                color=foreground,
            )
            item.setLabel("bottom", "Epoch")
            item.setLabel("left", titles[kind][0])
            item.showGrid(x=True, y=True, alpha=0.15)
            for axis in ("left", "bottom"):
                item.getAxis(axis).setPen(foreground)
                item.getAxis(axis).setTextPen(foreground)
            # loss falls and accuracy rises: keep the legend out of the curves' way
            legend = item.addLegend(offset=(-10, 10) if kind == "loss" else (-10, -40))
            legend.setLabelTextColor(foreground)
            faint = QColor(TRAIN_COLOR)
            faint.setAlpha(80)
            batch = item.plot(pen=pg.mkPen(faint, width=1))
            batch.setDownsampling(auto=True, method="peak")
            batch.setClipToView(True)
            self.curves[(kind, "batch")] = batch
            for part, color, label in (
                ("train", TRAIN_COLOR, "Training"),
                ("val", VAL_COLOR, "Validation"),
            ):
                self.curves[(kind, part)] = item.plot(
                    pen=pg.mkPen(color, width=2),
                    symbol="o",
                    symbolSize=7,
                    symbolBrush=color,
                    symbolPen=color,
                    name=label,
                )
            line = pg.InfiniteLine(
                angle=90,
                movable=False,
                pen=pg.mkPen(foreground, width=1, style=Qt.PenStyle.DashLine),
            )
            line.setVisible(False)
            item.addItem(line)
            self.best_lines[kind] = line
            if kind == "accuracy":
                item.setYRange(0, 100, padding=0.02)
                item.enableAutoRange(axis="y", enable=False)
            self.plots[kind] = widget
            self._layout.addWidget(widget)
        self._dirty = True
        self.refresh()

    # -- data in ------------------------------------------------------------------------
    def reset(self) -> None:
        for series in self.series.values():
            series.clear()
        self._smoothed = {"loss": None, "accuracy": None}
        self.best_epoch = None
        self._dirty = True
        self._timer.start()
        self.refresh()

    def add_batches(self, events) -> None:
        for event in events:
            x = event.epoch - 1 + event.batch / event.batches
            for kind, value in (("loss", event.loss), ("accuracy", 100 * event.acc)):
                previous = self._smoothed[kind]
                smoothed = (
                    value if previous is None else SMOOTHING * previous + (1 - SMOOTHING) * value
                )
                self._smoothed[kind] = smoothed
                self.series[(kind, "batch")].append(x, smoothed)
        self._dirty = True

    def add_epoch(self, event) -> None:
        self.series[("loss", "train")].append(event.epoch, event.train_loss)
        self.series[("loss", "val")].append(event.epoch, event.val_loss)
        self.series[("accuracy", "train")].append(event.epoch, 100 * event.train_acc)
        self.series[("accuracy", "val")].append(event.epoch, 100 * event.val_acc)
        self.best_epoch = event.best_epoch
        self._dirty = True

    def finish(self) -> None:
        """Draw what is left and stop the redraw clock."""
        self._timer.stop()
        self.refresh()

    # -- drawing ------------------------------------------------------------------------
    def refresh(self) -> None:
        if not (self._dirty and self.built):
            return
        self._dirty = False
        for key, curve in self.curves.items():
            curve.setData(*self.series[key].arrays())
        for line in self.best_lines.values():
            line.setVisible(self.best_epoch is not None)
            if self.best_epoch is not None:
                line.setValue(self.best_epoch)
