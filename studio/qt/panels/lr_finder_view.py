"""The learning-rate finder's result in its own window: loss against learning rate on a log
axis, the suggestion marked and labelled, and a button that applies it."""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout, QWidget

from studio.qt.panels.plots import TRAIN_COLOR, VAL_COLOR
from studio.qt.plot_colours import follow_palette
from studio.qt.steady import paint_with_window


class LrFinderDialog(QDialog):
    """``lrFinderDialog``: ``lrFinderPlot`` and ``lrFinderApplyButton``; ``apply_requested``
    fires when the user takes the suggestion."""

    apply_requested = Signal()

    def __init__(self, parent: QWidget) -> None:
        import pyqtgraph as pg

        super().__init__(parent)
        self.setObjectName("lrFinderDialog")
        self.setWindowTitle("Learning-rate finder — Studio")
        self.resize(640, 440)
        self.plot = pg.PlotWidget()
        paint_with_window(self.plot)
        self.plot.setObjectName("lrFinderPlot")
        self.plot.setAccessibleName("Loss against learning rate")
        self.plot.setMinimumSize(360, 240)
        item = self.plot.getPlotItem()
        item.setTitle("Loss while the learning rate rises")
        item.setLogMode(x=True, y=False)
        item.setLabel("bottom", "Learning rate (log scale)")
        item.setLabel("left", "Loss (smoothed)")
        item.showGrid(x=True, y=True, alpha=0.2)
        self.legend = item.addLegend(offset=(-10, 10))
        self.curve = item.plot([], [], pen=pg.mkPen(TRAIN_COLOR, width=2), name="loss")
        self.marker = pg.InfiniteLine(
            angle=90, pen=pg.mkPen(VAL_COLOR, width=2, style=Qt.PenStyle.DashLine)
        )
        item.addItem(self.marker)
        self.legend.addItem(pg.PlotDataItem(pen=self.marker.pen), "suggested")
        follow_palette(self.plot)  # with its legend, in the theme's colours
        self.note = QLabel()
        self.note.setObjectName("lrFinderNote")
        self.note.setWordWrap(True)
        self.apply = QPushButton("Apply")
        self.apply.setObjectName("lrFinderApplyButton")
        self.apply.setProperty("primary", True)
        self.apply.clicked.connect(self.apply_requested)
        self.apply.clicked.connect(self.accept)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.apply, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.note)
        layout.addWidget(buttons)

    def show_finding(self, finding: Any) -> None:
        """Plot ``finding`` (``lrs``, ``losses``, ``suggestion``) and show the window."""
        self.curve.setData(list(finding.lrs), list(finding.losses))
        self.marker.setPos(math.log10(finding.suggestion))
        self.apply.setText(f"Apply {finding.suggestion:.1e}")
        self.note.setText(
            f"The loss falls fastest at a learning rate of <b>{finding.suggestion:.1e}</b> "
            "(dashed line). Past the dip the loss climbs: too high a rate. When fine-tuning "
            "a pre-trained model, a rate a little lower than the suggestion is safer."
        )
        self.plot.getPlotItem().enableAutoRange()
        self.show()
        self.raise_()
