"""A virtualised thumbnail grid over the whole dataset, filterable by class, split and problem.

The model holds only row numbers into the scanned index; the view (icon mode, uniform item
sizes) asks for decorations of visible items only, which queue thumbnail decodes. Every
decoration is drawn on a square canvas of the chosen thumbnail size (small images scaled up,
so 32-pixel pictures are not specks), and every cell has the same size under any filter.
The class and split of each file follow the project's edits (relabels, renames, exclusions).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from studio.qt.tasks import TaskRunner
from studio.qt.thumbnails import MEMORY_ITEMS, THUMB, LruCache, ThumbnailLoader

if TYPE_CHECKING:
    from studio.engine.data.index import DatasetIndex

ANY_PROBLEM = "*"  # the problem filter's value for files with any problem
EVERY = ""  # a filter's value for "all"
PathRole = Qt.ItemDataRole.UserRole + 1
AnyIndex = QModelIndex | QPersistentModelIndex
SIZES = (64, 96, 128, 160, 192, 256)  # thumbnail sizes the slider steps through
TEXT_HEIGHT = 22  # room under a thumbnail for its file name


def decode_size(size: int) -> int:
    """The size thumbnails are decoded at to be shown at ``size`` (few sizes: the disk cache
    keeps one file per size)."""
    return 128 if size <= 128 else max(SIZES)


def fit_square(image: QImage, size: int) -> QPixmap:
    """``image`` scaled to fit a ``size`` square (up as well as down), centred on a
    transparent canvas of exactly that size: every cell looks the same size."""
    canvas = QPixmap(size, size)
    canvas.fill(Qt.GlobalColor.transparent)
    if image.isNull():
        return canvas
    upscale = max(image.width(), image.height()) * 2 <= size
    mode = (
        Qt.TransformationMode.FastTransformation  # crisp pixels for tiny images
        if upscale
        else Qt.TransformationMode.SmoothTransformation
    )
    scaled = image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, mode)
    painter = QPainter(canvas)
    painter.drawImage((size - scaled.width()) // 2, (size - scaled.height()) // 2, scaled)
    painter.end()
    return canvas


def _filled(size: int, colour: QColor) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(colour)
    return pixmap


class ThumbnailModel(QAbstractListModel):
    """Rows are files of a :class:`DatasetIndex`; decorations come from the LRU cache or are
    requested from the loader (a grey placeholder meanwhile)."""

    def __init__(self, tasks: TaskRunner, parent=None, loader: ThumbnailLoader | None = None):
        super().__init__(parent)
        self.dataset: DatasetIndex | None = None
        self.rows: list[int] = []
        self.split_of: dict[Path, str] = {}  # each trained file's split (edits applied)
        self.class_of: dict[Path, str] = {}  # each trained file's class (edits applied)
        self.kinds: dict[str, set[str]] = {}
        self.excluded: set[Path] = set()
        self.size = THUMB + 16
        self.cache = LruCache(MEMORY_ITEMS)  # decoded images, at the loader's size
        self._shown: dict[str, QPixmap] = {}  # the cached images drawn at ``size``
        self.loader = loader or ThumbnailLoader(tasks, decode_size(self.size), parent=self)
        self.loader.loaded.connect(self._loaded)
        self._row_of: dict[str, int] = {}
        self._filter: tuple[str | None, str | None, str | None] = (None, None, None)
        self._set_placeholders()

    def _set_placeholders(self) -> None:
        self._placeholder = _filled(self.size, QColor(220, 220, 220))
        self._broken = _filled(self.size, QColor(240, 190, 190))

    def set_index(self, index: DatasetIndex | None) -> None:
        self.beginResetModel()
        self.dataset = index
        self.split_of, self.class_of, self.kinds = {}, {}, {}
        self.loader.cancel_all()
        self.rows = list(range(len(index.paths))) if index else []
        self._row_of = {}
        self._filter = (None, None, None)
        self.endResetModel()

    def set_details(
        self,
        split_of: dict[Path, str] | None = None,
        class_of: dict[Path, str] | None = None,
        kinds: dict[str, set[str]] | None = None,
    ) -> None:
        """Each file's split and class (edits applied) and problem kinds, once known; the
        current filter is applied again."""
        if split_of is not None:
            self.split_of = split_of
        if class_of is not None:
            self.class_of = class_of
        if kinds is not None:
            self.kinds = kinds
        self.set_filter(*self._filter)

    def class_name(self, i: int) -> str:
        """The class file ``i`` trains as (its folder's until the split is known)."""
        assert self.dataset is not None
        path = self.dataset.paths[i]
        return self.class_of.get(path) or self.dataset.classes[self.dataset.labels[i]]

    def set_filter(self, name: str | None, split: str | None, problem: str | None) -> None:
        """Show files of class ``name``, in ``split``, with ``problem`` (a kind, or
        :data:`ANY_PROBLEM`; None: all)."""
        index = self.dataset
        self._filter = (name, split, problem)
        self.beginResetModel()
        self._row_of = {}
        if index is None:
            self.rows = []
        else:
            rows: Any = range(len(index.paths))
            if name is not None:
                rows = [i for i in rows if self.class_name(i) == name]
            if split is not None and self.split_of:
                rows = [i for i in rows if self.split_of.get(index.paths[i]) == split]
            if problem == ANY_PROBLEM:
                rows = [i for i in rows if str(index.paths[i]) in self.kinds]
            elif problem is not None:
                rows = [i for i in rows if problem in self.kinds.get(str(index.paths[i]), ())]
            self.rows = list(rows)
        self.endResetModel()

    def set_size(self, size: int) -> None:
        """Draw thumbnails in ``size``-pixel squares."""
        if size == self.size:
            return
        self.layoutAboutToBeChanged.emit()
        self.size = size
        self._shown.clear()
        if decode_size(size) != self.loader.size:
            self.loader.cancel_all()
            self.loader.size = decode_size(size)
            self.cache.clear()
            self.cache.capacity = MEMORY_ITEMS * 128**2 // self.loader.size**2
        self._set_placeholders()
        self.layoutChanged.emit()

    def cell_size(self) -> QSize:
        return QSize(self.size + 8, self.size + TEXT_HEIGHT)

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
            return self._decoration(str(path), item.row())
        if role == Qt.ItemDataRole.SizeHintRole:
            return self.cell_size()
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(i)
        if role == Qt.ItemDataRole.ForegroundRole and path in self.excluded:
            return QColor(150, 150, 150)
        if role == PathRole:
            return str(path)
        return None

    def _decoration(self, key: str, row: int) -> QPixmap:
        shown = self._shown.get(key)
        if shown is not None:
            return shown
        image = self.cache.get(key)
        if image is None:
            self._row_of[key] = row
            self.loader.request(key)
            return self._placeholder
        if image.isNull():
            return self._broken
        if len(self._shown) > self.cache.capacity:
            self._shown.clear()
        shown = self._shown[key] = fit_square(image, self.size)
        return shown

    def _tooltip(self, i: int) -> str:
        from studio.engine.data.problems import KIND_TITLES

        assert self.dataset is not None
        path = self.dataset.paths[i]
        folder = self.dataset.classes[self.dataset.labels[i]]
        name = self.class_name(i)
        lines = [str(path), f"class {name}" + (f" (folder {folder})" if name != folder else "")]
        if path in self.excluded:
            lines.append("excluded: not trained on")
        elif self.split_of.get(path):
            lines.append(f"split: {self.split_of[path]}")
        kinds = self.kinds.get(str(path), ())
        lines.extend(f"⚠ {KIND_TITLES.get(k, k)}" for k in sorted(kinds))
        return "\n".join(lines)

    def _loaded(self, path: str, image: QImage) -> None:
        self.cache.put(path, image)
        self._shown.pop(path, None)
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
    view.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # the name's start and extension
    view.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
    view.setModel(model)
    size_view(view, model.size)
    return view


def size_view(view: QListView, size: int) -> None:
    model = view.model()
    assert isinstance(model, ThumbnailModel)
    model.set_size(size)
    view.setIconSize(QSize(size, size))
    cell = model.cell_size()
    view.setGridSize(QSize(cell.width() + 8, cell.height() + 6))


class GridFilters(QWidget):
    """Labelled class, split and problem filters driving :meth:`ThumbnailModel.set_filter`,
    and the thumbnail-size slider."""

    def __init__(
        self, model: ThumbnailModel, view: QListView, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.model, self.view = model, view
        self.by_class = QComboBox(objectName="classFilter", accessibleName="Class filter")
        self.by_split = QComboBox(objectName="splitFilter", accessibleName="Split filter")
        self.by_problem = QComboBox(objectName="problemFilter", accessibleName="Problem filter")
        self.size = QSlider(Qt.Orientation.Horizontal, objectName="thumbnailSizeSlider")
        self.size.setAccessibleName("Thumbnail size")
        self.size.setRange(0, len(SIZES) - 1)
        self.size.setPageStep(1)
        self.size.setValue(SIZES.index(128))
        self.size.setMaximumWidth(140)
        self.size.setToolTip("Thumbnail size (small images are shown scaled up)")
        self.size.valueChanged.connect(lambda step: size_view(self.view, SIZES[step]))
        size_view(view, SIZES[self.size.value()])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for text, box in (
            ("Class", self.by_class),
            ("Split", self.by_split),
            ("Problem", self.by_problem),
        ):
            label = QLabel(text)
            label.setBuddy(box)
            layout.addWidget(label)
            layout.addWidget(box, 1)
            box.currentIndexChanged.connect(self.apply)
        layout.addWidget(QLabel("Size"))
        layout.addWidget(self.size)
        self.reset([], [])

    def reset(self, classes: list[str], kinds: list[str]) -> None:
        """New choices; the current ones are kept where they still exist."""
        from studio.engine.data.problems import KIND_TITLES

        for box, items in (
            (self.by_class, [("All classes", EVERY), *((c, c) for c in classes)]),
            (
                self.by_split,
                [("All splits", EVERY), ("train", "train"), ("val", "val"), ("test", "test")],
            ),
            (
                self.by_problem,
                [
                    ("All images", EVERY),
                    ("Any problem", ANY_PROBLEM),
                    *((KIND_TITLES.get(k, k), k) for k in kinds),
                ],
            ),
        ):
            current = box.currentData()
            box.blockSignals(True)
            box.clear()
            for text, value in items:
                box.addItem(text, value)
            box.setCurrentIndex(max(0, box.findData(current)))
            box.blockSignals(False)
        self.apply()

    def choose(self, box: QComboBox, value: str | None) -> None:
        """Pick the entry whose value is ``value`` (a class, split or problem kind; None:
        all)."""
        box.setCurrentIndex(max(0, box.findData(value or EVERY)))

    def apply(self) -> None:
        self.model.set_filter(
            *(box.currentData() or None for box in (self.by_class, self.by_split, self.by_problem))
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
