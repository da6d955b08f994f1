"""Live loss and accuracy plots, redrawn on a timer from preallocated buffers.

pyqtgraph is imported in :meth:`TrainingPlots.build`, not at module import, so the window
can be shown before it loads.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.qt.later import later
from studio.qt.steady import paint_with_window

TRAIN_COLOR = "#3b82f6"
VAL_COLOR = "#f97316"
DIVERGENCE_COLOR = (239, 68, 68, 40)
REFRESH_MS = 50  # 20 Hz, one plot a tick: each plot redraws at 10 Hz
SMOOTHING = 0.9  # exponential moving average of the per-batch training values
GHOSTS = 3  # earlier runs of this project that "Compare with previous runs" can show
MAX_DRAWN = 2000  # the smoothed batch curve is decimated to about this many points
TITLES = {"loss": ("Loss", "lower is better"), "accuracy": ("Accuracy (%)", "higher is better")}


class Series:
    """A growable pair of float buffers: appends are amortised O(1), :meth:`arrays` returns
    views (no copy). numpy is imported on the first append, after the window is up."""

    def __init__(self) -> None:
        self._x = self._y = None
        self.size = 0
        self.version = 0  # bumped on every change, so unchanged curves are not re-sent

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
        self.version += 1

    def clear(self) -> None:
        self.size = 0
        self.version += 1

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
    curves, a faint smoothed per-batch training curve, a best-epoch marker, a shaded
    divergence region and hover read-outs. The validation curves of this project's earlier
    runs (``run_name`` names each) are drawn only with "Compare with previous runs" on,
    labelled in the legend. Given the project ``model``, the plots empty when the project or
    the dataset changes (not during a run).

    ``refreshed()`` fires on the GUI thread after each redraw.
    """

    KINDS = ("loss", "accuracy")
    refreshed = Signal()

    def __init__(self, model=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run_name = ""  # the run being drawn (the window names it once started)
        self.series = {
            (kind, part): Series() for kind in self.KINDS for part in ("train", "val", "batch")
        }
        self.curves: dict[tuple[str, str], object] = {}
        self.plots: dict[str, object] = {}
        self.best_lines: dict[str, object] = {}
        self.best_markers: dict[str, object] = {}
        self.regions: dict[str, object] = {}
        self.ghosts: list[tuple[str, dict[str, object]]] = []  # (run name, curve per plot)
        self.best_epoch: int | None = None
        self.divergence: tuple[int, int] | None = None
        self.epochs = 0
        self._smoothed: dict[str, float | None] = {"loss": None, "accuracy": None}
        self._loss_max = 1e-3  # grows with the data: the loss axis never jitters
        self._dirty: set[str] = set()  # the plots whose data changed since they were drawn
        self._turn = 0  # the plot the next timer tick redraws
        self._follow = True  # auto-range until the user zooms or pans
        self._hover_labels: dict[str, object] = {}
        self._drawn: dict[tuple[str, str], int] = {}  # series version each curve shows
        # per plot: the best epoch, divergence and epochs marked; the x end and y top shown
        self._drawn_marks: dict[str, tuple | None] = dict.fromkeys(self.KINDS)
        self._drawn_range: dict[str, tuple[float, float] | None] = dict.fromkeys(self.KINDS)
        self._area = QHBoxLayout()
        self._placeholder = QLabel("Loading plots…")
        self._area.addWidget(self._placeholder)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.hint = QLabel(
            "Watch the <b>validation</b> curves: they show how the model does on images it "
            "never trains on."
        )
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)  # its own row, the full width: wraps only at 150-200 %
        layout.addWidget(self.hint)
        layout.addLayout(self._toolbar())
        layout.addLayout(self._area, 1)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._tick)
        if model is not None:
            model.project_changed.connect(self.clear)
            model.dataset_changed.connect(lambda _index: self.clear())

    def _toolbar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        self.compare = QCheckBox("Compare with previous runs")
        self.compare.setObjectName("comparePreviousRunsToggle")
        self.compare.setToolTip(
            "Also draw the validation curves of this project's last runs, named in the legend."
        )
        self.compare.setEnabled(False)
        self.compare.toggled.connect(self._show_ghosts)
        bar.addWidget(self.compare)
        for name, text, tip, slot in (
            ("resetZoomButton", "Reset view", "Fit the plots to the data again.", self.reset_view),
            ("savePlotsButton", "Save PNG…", "Save both plots as a picture.", self._ask_png),
            ("exportCsvButton", "Export CSV…", "Save the per-epoch metrics.", self._ask_csv),
        ):
            button = QPushButton(text)
            button.setObjectName(name)
            button.setToolTip(tip)
            button.setFlat(True)
            button.clicked.connect(slot)
            bar.addWidget(button)
        bar.addStretch(1)
        return bar

    @property
    def built(self) -> bool:
        return bool(self.plots)

    def build(self) -> None:
        """Import pyqtgraph and create the plot widgets (once)."""
        if self.built:
            return
        import pyqtgraph as pg

        self._area.removeWidget(self._placeholder)
        self._placeholder.deleteLater()
        for kind in self.KINDS:
            widget = pg.PlotWidget()
            paint_with_window(widget)
            widget.setObjectName(f"{kind}Plot")
            widget.setAccessibleName(f"{TITLES[kind][0]} plot")
            item = widget.getPlotItem()
            item.setLabel("bottom", "Epoch")
            item.setLabel("left", TITLES[kind][0])
            # a light horizontal grid on major ticks only: each grid line is redrawn every
            # frame, and a full grid triples the cost of a refresh (benchmarks/plot_refresh.py)
            item.showGrid(x=False, y=True, alpha=0.15)
            for axis in ("left", "bottom"):
                item.getAxis(axis).setStyle(maxTickLevel=0)
                # no "(m)" or "(x1e-3)" on a label: learners read values, not SI prefixes
                item.getAxis(axis).enableAutoSIPrefix(False)
            # a fixed width: new tick labels never re-lay the plot out mid-run, and the two
            # plots' axes line up
            metrics = widget.fontMetrics()
            item.getAxis("left").setWidth(metrics.horizontalAdvance("0.000") + metrics.height() + 8)
            item.setMenuEnabled(False)
            # loss falls and accuracy rises: keep the legend out of the curves' way
            item.addLegend(offset=(-10, 10) if kind == "loss" else (-10, -40))
            region = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(*DIVERGENCE_COLOR))
            region.setZValue(-10)
            region.setVisible(False)
            item.addItem(region, ignoreBounds=True)
            self.regions[kind] = region
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
            line = pg.InfiniteLine(angle=90, movable=False)
            line.setVisible(False)
            item.addItem(line, ignoreBounds=True)
            self.best_lines[kind] = line
            marker = pg.ScatterPlotItem(symbol="star", size=18, brush=pg.mkBrush(VAL_COLOR))
            marker.setZValue(10)
            item.addItem(marker)
            self.best_markers[kind] = marker
            hover = pg.TextItem(anchor=(0, 1))
            hover.setVisible(False)
            item.addItem(hover, ignoreBounds=True)
            self._hover_labels[kind] = hover
            widget.scene().sigMouseMoved.connect(lambda pos, kind=kind: self._hovered(kind, pos))
            item.getViewBox().sigRangeChangedManually.connect(self._user_moved_view)
            self.plots[kind] = widget
            self._area.addWidget(widget)
        self._apply_palette()
        self._dirty.update(self.KINDS)
        self.refresh()

    # -- data in ------------------------------------------------------------------------
    @property
    def live(self) -> bool:
        """Whether a run is being drawn (between :meth:`reset` and :meth:`finish`)."""
        return self._timer.isActive()

    def clear(self) -> None:
        """Another project or dataset: no curves, none of the earlier runs kept. A run
        being drawn keeps its curves."""
        if self.live or not (self.ghosts or any(self.series.values()) or self.run_name):
            return  # nothing of a run shown: nothing to redraw
        for _name, items in self.ghosts:
            for kind, item in items.items():
                self._drop_ghost_item(kind, item)
        self.ghosts.clear()
        self.compare.setEnabled(False)
        self.run_name = ""
        self._clear_series()
        self.refresh()

    def reset(self, epochs: int = 0) -> None:
        """Start a new run; the previous run's validation curves are kept for comparing."""
        if len(self.series[("loss", "val")]) and self.built:
            self._keep_ghost()
        self._clear_series(epochs)
        self._timer.start()
        self.refresh()

    def _clear_series(self, epochs: int = 0) -> None:
        for series in self.series.values():
            series.clear()
        self._smoothed = {"loss": None, "accuracy": None}
        self._loss_max = 1e-3
        self.best_epoch = None
        self.divergence = None
        self.epochs = epochs
        self._follow = True
        self._drawn_marks = dict.fromkeys(self.KINDS)
        self._drawn_range = dict.fromkeys(self.KINDS)
        self._dirty.update(self.KINDS)

    def expect(self, epochs: int, classes: int) -> None:
        """The run has started: ``epochs`` long, ``classes`` to tell apart. The loss axis
        starts at ln(classes), the loss of a model that guesses, which a fresh model's first
        batches are near: it is set now, not moved with the first batch's redraw."""
        self.epochs = epochs
        if classes > 1:
            self._grow_loss_axis(math.log(classes))
        self._dirty.update(self.KINDS)

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
            self._grow_loss_axis(self._smoothed["loss"])
        self._dirty.update(self.KINDS)

    def add_epoch(self, event) -> None:
        self.series[("loss", "train")].append(event.epoch, event.train_loss)
        self.series[("loss", "val")].append(event.epoch, event.val_loss)
        self.series[("accuracy", "train")].append(event.epoch, 100 * event.train_acc)
        self.series[("accuracy", "val")].append(event.epoch, 100 * event.val_acc)
        self._grow_loss_axis(event.train_loss, event.val_loss)
        self.best_epoch = event.best_epoch
        self.epochs = max(self.epochs, event.epochs)
        if self.divergence is not None:
            self.divergence = (self.divergence[0], event.epoch)
        self._dirty.update(self.KINDS)

    def _grow_loss_axis(self, *values: float | None) -> None:
        finite = [v for v in values if v is not None and math.isfinite(v)]
        self._loss_max = max([self._loss_max, *finite])

    def mark_divergence(self, began: int | None, epoch: int) -> None:
        """Shade the plots from the epoch where the curves began to diverge (the earliest
        active overfitting signal's), or not at all (``None``: every alarm was withdrawn)."""
        self.divergence = None if began is None else (began, epoch)
        self._dirty.update(self.KINDS)
        self.refresh()

    def finish(self) -> None:
        """Stop the redraw clock; what is left is drawn in a coming pass."""
        self._timer.stop()
        later(self.refresh)

    # -- drawing ------------------------------------------------------------------------
    def _tick(self) -> None:
        """The redraw clock draws one plot a tick, in turn: a redraw is a chain of scene
        updates, and two plots' chains back to back kept the window from a repaint for
        40-60 ms while training held the GIL (benchmarks/gui_gaps.py)."""
        kind = self.KINDS[self._turn]
        self._turn = 1 - self._turn
        self.refresh((kind,))

    def refresh(self, kinds: tuple[str, ...] = KINDS) -> None:
        """Draw what changed in the given plots (both by default)."""
        kinds = tuple(kind for kind in kinds if kind in self._dirty)
        if not (kinds and self.built):
            return
        self._dirty.difference_update(kinds)
        for kind in kinds:
            self._draw(kind)
        self.refreshed.emit()

    def _draw(self, kind: str) -> None:
        for part in ("batch", "train", "val"):
            key, series = (kind, part), self.series[(kind, part)]
            if self._drawn.get(key) == series.version:
                continue
            self._drawn[key] = series.version
            x, y = series.arrays()
            if part == "batch" and len(x) > MAX_DRAWN:
                # the curve is already low-pass filtered (EMA): every n-th point loses nothing
                step = -(-len(x) // MAX_DRAWN)
                x, y = x[::-step][::-1], y[::-step][::-1]  # always keep the newest point
            self.curves[key].setData(x, y)
        # markers and ranges only when they move: each change costs the plot a scene update
        marks = (self.best_epoch, self.divergence, len(self.series[(kind, "val")]))
        if marks != self._drawn_marks[kind]:
            self._drawn_marks[kind] = marks
            self._draw_markers(kind)
        if self._follow:
            self._fit_view(kind)

    def _draw_markers(self, kind: str) -> None:
        best = self.best_epoch
        line, marker, region = self.best_lines[kind], self.best_markers[kind], self.regions[kind]
        line.setVisible(best is not None)
        if best is not None and best <= len(self.series[(kind, "val")]):
            line.setValue(best)
            marker.setData([best], [self.series[(kind, "val")].y[best - 1]])
        else:
            marker.setData([], [])
        region.setVisible(self.divergence is not None)
        if self.divergence is not None:
            start, end = self.divergence
            region.setRegion((start - 0.5, max(end, start) + 0.25))

    def _fit_view(self, kind: str) -> None:
        """Fixed, growing ranges: streaming points never make the axes jump about."""
        batch_x = self.series[(kind, "batch")].arrays()[0]
        last = max(self.epochs, len(self.series[(kind, "val")]), 1)
        if len(batch_x):
            last = max(last, float(batch_x[-1]))
        top = 100 if kind == "accuracy" else self._loss_top()
        if (last, top) == self._drawn_range[kind]:
            return
        self._drawn_range[kind] = (last, top)
        box = self.plots[kind].getPlotItem().getViewBox()
        box.setXRange(0, last, padding=0.03)
        if kind == "accuracy":
            box.setYRange(0, 100, padding=0.03)
        else:
            box.setYRange(0, top, padding=0.03)  # like accuracy: the 0 tick shows

    def _loss_top(self) -> float:
        """The loss axis' top: the largest loss so far, rounded up to 1, 1.5, 2, 3, 5 or 7
        times a power of ten. The axis moves a few times a run, not at every redraw (each
        move redraws its ticks and labels)."""
        power = 10 ** math.floor(math.log10(self._loss_max))
        return next(
            power * step for step in (1, 1.5, 2, 3, 5, 7, 10) if power * step >= self._loss_max
        )

    def reset_view(self) -> None:
        self._follow = True
        self._drawn_range = dict.fromkeys(self.KINDS)
        self._dirty.update(self.KINDS)
        self.refresh()

    def _user_moved_view(self, *_args) -> None:
        self._follow = False

    def _hovered(self, kind: str, pos) -> None:
        widget, label = self.plots[kind], self._hover_labels[kind]
        box = widget.getPlotItem().getViewBox()
        if not box.sceneBoundingRect().contains(pos) or not len(self.series[(kind, "val")]):
            label.setVisible(False)
            return
        point = box.mapSceneToView(pos)
        epoch = min(max(round(point.x()), 1), len(self.series[(kind, "val")]))
        train = self.series[(kind, "train")].y[epoch - 1]
        val = self.series[(kind, "val")].y[epoch - 1]
        unit = "%" if kind == "accuracy" else ""
        label.setHtml(
            f"<div style='background:rgba(255,255,255,200);color:#111;padding:2px'>"
            f"<b>Epoch {epoch}</b><br>training {train:.3g}{unit}<br>validation {val:.3g}{unit}"
            f"</div>"
        )
        label.setPos(epoch, val)
        label.setVisible(True)

    def _keep_ghost(self) -> None:
        """Keep the finished run's validation curves, named, for "Compare with previous
        runs" (the oldest go beyond :data:`GHOSTS`)."""
        import pyqtgraph as pg

        name = self.run_name or f"run {len(self.ghosts) + 1}"
        items: dict[str, object] = {}
        for kind, widget in self.plots.items():
            colour = QColor(VAL_COLOR)
            colour.setAlpha(110)
            x, y = self.series[(kind, "val")].arrays()
            item = pg.PlotDataItem(
                x.copy(), y.copy(), pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine)
            )
            item.setVisible(False)
            widget.getPlotItem().addItem(item)
            items[kind] = item
        self.ghosts.append((name, items))
        while len(self.ghosts) > GHOSTS:
            for kind, item in self.ghosts.pop(0)[1].items():
                self._drop_ghost_item(kind, item)
        self.compare.setEnabled(True)
        self._show_ghosts(self.compare.isChecked())

    def _drop_ghost_item(self, kind: str, item: object) -> None:
        plot = self.plots[kind].getPlotItem()
        plot.legend.removeItem(item)
        plot.removeItem(item)

    def _show_ghosts(self, on: bool) -> None:
        """Show or hide the earlier runs' curves and their legend entries."""
        for name, items in self.ghosts:
            for kind, item in items.items():
                legend = self.plots[kind].getPlotItem().legend
                legend.removeItem(item)
                item.setVisible(on)
                if on:
                    legend.addItem(item, f"{name} (validation)")

    def ghost_labels(self) -> list[str]:
        """The legend names of the earlier runs' curves shown now."""
        if not self.compare.isChecked():
            return []
        return [f"{name} (validation)" for name, _items in self.ghosts]

    # -- colours ------------------------------------------------------------------------
    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange and self.built:
            self._apply_palette()
        super().changeEvent(event)

    def _apply_palette(self) -> None:
        """Follow the light or dark palette: background, axes, text and markers."""
        import pyqtgraph as pg

        palette = self.palette()
        background = palette.color(QPalette.ColorRole.Base)
        foreground = palette.color(QPalette.ColorRole.Text)
        for kind, widget in self.plots.items():
            widget.setBackground(background)
            item = widget.getPlotItem()
            title, note = TITLES[kind]
            item.setTitle(f"{title} <span style='color:gray'>({note})</span>", color=foreground)
            for axis in ("left", "bottom"):
                item.getAxis(axis).setPen(foreground)
                item.getAxis(axis).setTextPen(foreground)
            item.legend.setLabelTextColor(foreground)
            self.best_lines[kind].setPen(pg.mkPen(foreground, width=1, style=Qt.PenStyle.DashLine))
            self.best_markers[kind].setPen(pg.mkPen(foreground, width=1))

    # -- export -------------------------------------------------------------------------
    def csv_text(self) -> str:
        """The per-epoch metrics as CSV (accuracies as fractions, like events.jsonl)."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["epoch", "train_loss", "val_loss", "train_acc", "val_acc"])
        for i in range(len(self.series[("loss", "val")])):
            writer.writerow(
                [
                    i + 1,
                    self.series[("loss", "train")].y[i],
                    self.series[("loss", "val")].y[i],
                    self.series[("accuracy", "train")].y[i] / 100,
                    self.series[("accuracy", "val")].y[i] / 100,
                ]
            )
        return out.getvalue()

    def save_png(self, path: Path) -> bool:
        return self.grab().save(str(path), "PNG")

    def save_csv(self, path: Path) -> None:
        from studio.fileio import atomic_write_text

        atomic_write_text(path, self.csv_text())

    def _ask_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save plots", "training.png", "PNG (*.png)")
        if path:
            self.save_png(Path(path))

    def _ask_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export metrics", "metrics.csv", "CSV (*.csv)")
        if path:
            self.save_csv(Path(path))
