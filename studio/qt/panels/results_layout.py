"""The Results tab's body: metrics and confusion matrix beside the mistakes, or stacked.

Side by side where the tab is wide enough; narrower (1280×720, 150 % and 200 % scale) one
column that the tab scrolls, each table as tall as its rows, Grad-CAM beside the mistakes.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QWidget

SIDE_BY_SIDE_WIDTH = 900  # narrower than this, the tab's parts stack in one scrolled column
MISTAKES_HEIGHT = 340  # stacked, the mistakes and Grad-CAM row: two rows of thumbnails
TABLE_HEIGHT = 420  # stacked, a table taller than this scrolls inside


class ResultsBody(QSplitter):
    """``left`` (metrics over matrix) and ``right`` (a vertical splitter: the mistakes over
    Grad-CAM), arranged by :meth:`arrange`."""

    def __init__(self, metrics: QWidget, matrix: QWidget, right: QSplitter) -> None:
        super().__init__(Qt.Orientation.Horizontal)
        self.metrics, self.matrix, self.right = metrics, matrix, right
        self.left = QSplitter(Qt.Orientation.Vertical)
        self.left.addWidget(metrics)
        self.left.addWidget(matrix)
        self.addWidget(self.left)
        self.addWidget(right)
        for splitter in (self.left, right, self):
            splitter.setChildrenCollapsible(False)
        self.stacked: bool | None = None
        self.arrange(stacked=False)

    def arrange(self, stacked: bool) -> None:
        """Metrics and matrix beside the mistakes and Grad-CAM where there is room; where
        there is not, one column with Grad-CAM beside the mistakes."""
        if stacked == self.stacked:
            return
        self.stacked = stacked
        vertical, horizontal = Qt.Orientation.Vertical, Qt.Orientation.Horizontal
        self.setOrientation(vertical if stacked else horizontal)
        self.right.setOrientation(horizontal if stacked else vertical)
        self.right.setSizes([360, 220] if stacked else [400, 220])
        if stacked:
            self.fit_heights()
        else:
            self.setMinimumHeight(0)
            self.left.setSizes([300, 300])
            self.setSizes([380, 420])

    def fit_heights(self) -> None:
        """Stacked, each table is as tall as its rows (up to :data:`TABLE_HEIGHT`) and the
        column as tall as its parts; the tab scrolls."""
        tables = [min(w.sizeHint().height(), TABLE_HEIGHT) for w in (self.metrics, self.matrix)]
        handle = self.handleWidth()
        self.left.setSizes(tables)
        self.setMinimumHeight(sum(tables) + MISTAKES_HEIGHT + 2 * handle)
        self.setSizes([sum(tables) + handle, MISTAKES_HEIGHT])
