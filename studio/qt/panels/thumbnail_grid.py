"""A virtualised thumbnail grid over the whole dataset, filterable by class, split and problem.

The model holds only row numbers into the scanned index; the view (icon mode, uniform item
sizes) asks for decorations of visible items only, which queue thumbnail decodes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QVBoxLayout,
    QWidget,
)

from studio.qt.tasks import TaskRunner
from studio.qt.thumbnails import MEMORY_ITEMS, THUMB, LruCache, ThumbnailLoader

if TYPE_CHECKING:
    from studio.engine.data.index import DatasetIndex

ALL = "All"
ANY_PROBLEM = "Any problem"
PathRole = Qt.ItemDataRole.UserRole + 1
AnyIndex = QModelIndex | QPersistentModelIndex


class ThumbnailModel(QAbstractListModel):
    """Rows are files of a :class:`DatasetIndex`; decorations come from the LRU cache or are
    requested from the loader (a grey placeholder meanwhile)."""

    def __init__(self, tasks: TaskRunner, parent=None, loader: ThumbnailLoader | None = None):
        super().__init__(parent)
        self.dataset: DatasetIndex | None = None
        self.rows: list[int] = []
        self.splits: list[str] = []
        self.kinds: dict[str, set[str]] = {}
        self.excluded: set[Path] = set()
        self.cache = LruCache(MEMORY_ITEMS)
        self.loader = loader or ThumbnailLoader(tasks, THUMB, parent=self)
        self.loader.loaded.connect(self._loaded)
        self._row_of: dict[str, int] = {}
        placeholder = QPixmap(THUMB, THUMB)
        placeholder.fill(QColor(220, 220, 220))
        self._placeholder = placeholder
        self._broken = QPixmap(THUMB, THUMB)
        self._broken.fill(QColor(240, 190, 190))

    def set_index(self, index: DatasetIndex | None) -> None:
        self.beginResetModel()
        self.dataset = index
        self.splits, self.kinds = [], {}
        self.loader.cancel_all()
        self.rows = list(range(len(index.paths))) if index else []
        self._row_of = {}
        self.endResetModel()

    def set_details(self, splits: list[str], kinds: dict[str, set[str]]) -> None:
        """The split of each file and the problem kinds per path, once known."""
        self.splits, self.kinds = splits, kinds

    def set_filter(self, label: int | None, split: str | None, problem: str | None) -> None:
        """Show files of class ``label``, in ``split``, with ``problem`` (None: any/all)."""
        index = self.dataset
        self.beginResetModel()
        self._row_of = {}
        if index is None:
            self.rows = []
        else:
            rows = range(len(index.paths))
            if label is not None:
                rows = [i for i in rows if index.labels[i] == label]
            if split is not None and self.splits:
                rows = [i for i in rows if self.splits[i] == split]
            if problem == ANY_PROBLEM:
                rows = [i for i in rows if str(index.paths[i]) in self.kinds]
            elif problem is not None:
                rows = [i for i in rows if problem in self.kinds.get(str(index.paths[i]), ())]
            self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def data(self, item: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not item.isValid() or self.dataset is None:
            return None
        i = self.rows[item.row()]
        path = self.dataset.paths[i]
        if role == Qt.ItemDataRole.DisplayRole:
            return path.name
        if role == Qt.ItemDataRole.DecorationRole:
            key = str(path)
            pixmap = self.cache.get(key)
            if pixmap is not None:
                return pixmap
            self._row_of[key] = item.row()
            self.loader.request(key)
            return self._placeholder
        if role == Qt.ItemDataRole.ToolTipRole:
            label = self.dataset.classes[self.dataset.labels[i]]
            split = f" · {self.splits[i]}" if self.splits else ""
            kinds = ", ".join(sorted(self.kinds.get(str(path), ())))
            return f"{path}\n{label}{split}" + (f"\n{kinds}" if kinds else "")
        if role == Qt.ItemDataRole.ForegroundRole and path in self.excluded:
            return QColor(150, 150, 150)
        if role == PathRole:
            return str(path)
        return None

    def _loaded(self, path: str, image: QImage) -> None:
        self.cache.put(path, self._broken if image.isNull() else QPixmap.fromImage(image))
        row = self._row_of.pop(path, None)
        if row is not None and row < len(self.rows):
            cell = self.createIndex(row, 0)
            self.dataChanged.emit(cell, cell, [Qt.ItemDataRole.DecorationRole])


def make_grid_view(model: ThumbnailModel) -> QListView:
    """An icon-mode list view tuned for 100,000 items: uniform sizes, static, batched."""
    view = QListView()
    view.setObjectName("thumbnailGrid")
    view.setAccessibleName("Thumbnails")
    view.setViewMode(QListView.ViewMode.IconMode)
    view.setMovement(QListView.Movement.Static)
    view.setResizeMode(QListView.ResizeMode.Adjust)
    view.setUniformItemSizes(True)
    view.setLayoutMode(QListView.LayoutMode.Batched)
    view.setBatchSize(2000)
    view.setIconSize(QSize(THUMB, THUMB))
    view.setGridSize(QSize(THUMB + 16, THUMB + 24))
    view.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
    view.setModel(model)
    return view


class GridFilters(QWidget):
    """Class, split and problem-kind combo boxes driving :meth:`ThumbnailModel.set_filter`."""

    def __init__(self, model: ThumbnailModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.by_class = QComboBox(objectName="classFilter", accessibleName="Class filter")
        self.by_split = QComboBox(objectName="splitFilter", accessibleName="Split filter")
        self.by_problem = QComboBox(objectName="problemFilter", accessibleName="Problem filter")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for box in (self.by_class, self.by_split, self.by_problem):
            layout.addWidget(box, 1)
            box.currentIndexChanged.connect(self.apply)
        self.reset([], [])

    def reset(self, classes: list[str], kinds: list[str]) -> None:
        for box, items in (
            (self.by_class, [ALL, *classes]),
            (self.by_split, [ALL, "train", "val", "test"]),
            (self.by_problem, [ALL, ANY_PROBLEM, *kinds]),
        ):
            box.blockSignals(True)
            box.clear()
            box.addItems(items)
            box.blockSignals(False)
        self.apply()

    def apply(self) -> None:
        label = self.by_class.currentIndex() - 1
        split = self.by_split.currentText()
        problem = self.by_problem.currentText()
        self.model.set_filter(
            label if label >= 0 else None,
            None if split in (ALL, "") else split,
            None if problem in (ALL, "") else problem,
        )


class ImageViewer(QDialog):
    """The picture at a readable size with its path, pixel size, file size and label."""

    def __init__(self, path: Path, label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("imageViewer")
        self.setWindowTitle(path.name)
        from studio.engine.data.images import ImageError, load_rgb
        from studio.qt.images import to_pixmap

        picture = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        try:
            rgb = load_rgb(path)
        except ImageError as exc:
            picture.setText(f"This file cannot be shown: {exc.detail}.")
            size = "unreadable"
        else:
            size = f"{rgb.shape[1]}x{rgb.shape[0]} px"
            picture.setPixmap(
                to_pixmap(rgb).scaled(
                    512,
                    512,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
        try:
            kib = f"{path.stat().st_size / 1024:,.1f} KiB"
        except OSError:
            kib = "missing"
        info = QLabel(f"{path}<br>{size} · {kib} · class <b>{label}</b>", objectName="viewerInfo")
        info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(picture, 1)
        layout.addWidget(info)
