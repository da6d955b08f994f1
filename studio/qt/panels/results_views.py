"""The Results tab's views: metrics table, confusion matrix heat map, image gallery.

Plain Qt widgets filled from the ``results.json`` dictionaries of
:mod:`studio.engine.results.evaluation`; nothing here imports torch or numpy.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QPalette, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHeaderView,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

PATH_ROLE = Qt.ItemDataRole.UserRole
THUMB = 96


def named(widget: QWidget, name: str, accessible: str) -> QWidget:
    widget.setObjectName(name)
    widget.setAccessibleName(accessible)
    return widget


def _cell(text: str, align_right: bool = True) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


class MetricsTable(QTableWidget):
    """Precision, recall, F1 and support per class, then the macro and weighted averages."""

    COLUMNS = ("precision", "recall", "f1", "support")

    def __init__(self) -> None:
        super().__init__(0, 4)
        named(self, "resultsMetricsTable", "Metrics per class")
        self.setHorizontalHeaderLabels(["Precision", "Recall", "F1", "Support"])
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSizeAdjustPolicy(QAbstractItemView.SizeAdjustPolicy.AdjustToContents)

    def show_result(self, result: dict[str, Any]) -> None:
        rows = [
            *result["per_class"],
            {"class": "macro average", **result["macro"], "support": result["count"]},
            {"class": "weighted average", **result["weighted"], "support": result["count"]},
        ]
        self.setRowCount(len(rows))
        self.setVerticalHeaderLabels([r["class"] for r in rows])
        for row, r in enumerate(rows):
            for col, key in enumerate(self.COLUMNS):
                value = r[key]
                self.setItem(row, col, _cell(str(value) if key == "support" else f"{value:.3f}"))


class ConfusionMatrix(QWidget):
    """A heat map of counts (or row shares) with class names on both axes.

    ``cell_clicked(true_class, predicted_class)`` fires when a cell is clicked.
    """

    cell_clicked = Signal(str, str)

    def __init__(self) -> None:
        super().__init__()
        self.result: dict[str, Any] | None = None
        self.table = named(QTableWidget(0, 0), "confusionMatrix", "Confusion matrix")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setSizeAdjustPolicy(QAbstractItemView.SizeAdjustPolicy.AdjustToContents)
        self.table.cellClicked.connect(self._clicked)
        self.normalised = named(
            QCheckBox("Row-normalised (share of each true class)"),
            "confusionNormalisedToggle",
            "Row-normalised confusion matrix",
        )
        self.normalised.toggled.connect(lambda _on: self._fill())
        caption = QLabel(
            "Rows: true class · columns: predicted class. Click a cell for its images."
        )
        caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(caption)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.normalised)

    def show_result(self, result: dict[str, Any]) -> None:
        self.result = result
        self._fill()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._fill()  # the heat map's colours start from the (light or dark) base
        super().changeEvent(event)

    def _fill(self) -> None:
        if self.result is None:
            return
        base = self.palette().color(QPalette.ColorRole.Base)
        classes = self.result["classes"]
        counts = self.result["confusion"]
        shares = self.result["confusion_normalised"]
        self.table.setRowCount(len(classes))
        self.table.setColumnCount(len(classes))
        self.table.setVerticalHeaderLabels([f"true: {c}" for c in classes])
        self.table.setHorizontalHeaderLabels(classes)
        for t in range(len(classes)):
            for p in range(len(classes)):
                share = shares[t][p]
                text = f"{share:.0%}" if self.normalised.isChecked() else str(counts[t][p])
                item = _cell(text, align_right=False)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                colour = _heat(share, t == p, base)
                item.setBackground(QBrush(colour))
                item.setForeground(QBrush(QColor("white" if colour.lightness() < 140 else "black")))
                item.setToolTip(f"true {classes[t]}, predicted {classes[p]}: {counts[t][p]}")
                self.table.setItem(t, p, item)

    def _clicked(self, row: int, column: int) -> None:
        if self.result is not None:
            classes = self.result["classes"]
            self.cell_clicked.emit(classes[row], classes[column])


def _heat(share: float, diagonal: bool, base: QColor) -> QColor:
    """From the background to blue on the diagonal (right), to red off it (mistakes)."""
    s = max(0.0, min(1.0, share))
    end = (55, 105, 255) if diagonal else (230, 40, 40)
    start = (base.red(), base.green(), base.blue())
    return QColor(*(round(a + (b - a) * s) for a, b in zip(start, end, strict=True)))


class Gallery(QListWidget):
    """Images as thumbnails with true/predicted/confidence, in the order given (worst first)."""

    def __init__(self) -> None:
        super().__init__()
        named(self, "misclassifiedGallery", "Misclassified images")
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setGridSize(QSize(THUMB + 24, THUMB + 44))
        self.setWordWrap(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setMovement(QListView.Movement.Static)
        self.images: list[dict[str, Any]] = []

    def show_images(self, images: list[dict[str, Any]], marks: dict[str, str]) -> None:
        self.clear()
        self.images = images
        for im in images:
            item = QListWidgetItem(self._label(im, marks.get(im["path"])))
            item.setData(PATH_ROLE, im["path"])
            item.setToolTip(f"{im['path']}\nloss {im['loss']:.3f}")
            self.addItem(item)

    def set_thumbnail(self, row: int, pixmap: QPixmap) -> None:
        item = self.item(row)
        if item is not None:
            item.setIcon(QIcon(pixmap))

    def refresh_marks(self, marks: dict[str, str]) -> None:
        for row, im in enumerate(self.images):
            item = self.item(row)
            if item is not None:
                item.setText(self._label(im, marks.get(im["path"])))

    def selected_paths(self) -> list[str]:
        return [item.data(PATH_ROLE) for item in self.selectedItems()]

    @staticmethod
    def _label(im: dict[str, Any], mark: str | None) -> str:
        text = f"{im['true']} → {im['predicted']}\n{im['confidence']:.0%}"
        if mark:
            text += f" · {mark.replace('_', ' ')}"
        return text
