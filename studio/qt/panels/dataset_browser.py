"""The dataset browser dock: the folders in use, their classes with counts and a sample of each,
the data health report, and a filterable thumbnail grid of every image. Classes and images
can be excluded (kept in the project, files untouched) and classes renamed."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, QPoint, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QIcon, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMenu,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.engine.data.problems import KIND_TITLES
from studio.qt.health_check import HealthCheck
from studio.qt.images import thumbnail, to_pixmap
from studio.qt.later import deferred, later
from studio.qt.panels.health_report import HealthReportView
from studio.qt.panels.thumbnail_grid import (
    GridFilters,
    ImageViewer,
    PathRole,
    ThumbnailModel,
    make_grid_view,
)
from studio.qt.project_model import ProjectModel

THUMB = 40


class DatasetBrowserPanel(QWidget):
    """Shows the scanned dataset; its buttons ask the window to add or clear folders."""

    add_folder_requested = Signal()
    sample_requested = Signal()
    report_ready = Signal(object)  # the HealthReport, once a check has finished
    image_picked = Signal(object)  # the Path of the image selected in the grid

    def __init__(self, model: ProjectModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.summary = QLabel("No images yet. Drop folders on the window.")
        self.summary.setObjectName("datasetSummary")
        self.summary.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setObjectName("classList")
        self.tree.setAccessibleName("Classes")
        self.tree.setHeaderLabels(["Class", "Images"])
        self.tree.setRootIsDecorated(False)
        self.tree.setIconSize(QSize(THUMB, THUMB))
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.warning = QLabel()
        self.warning.setObjectName("datasetWarning")
        self.warning.setWordWrap(True)
        self.warning.hide()
        add = QPushButton("Add folder…")
        add.setObjectName("addFolderButton")
        add.setToolTip("Add a folder of class folders, or one folder per class.")
        add.clicked.connect(self.add_folder_requested)
        sample = QPushButton("Sample data")
        sample.setObjectName("sampleDataButton")
        sample.setToolTip("Load the built-in handwritten digits (5 classes, 900 images).")
        sample.clicked.connect(self.sample_requested)
        clear = QPushButton("Clear")
        clear.setObjectName("clearDataButton")
        clear.setToolTip("Remove all folders from the project (your files are not touched).")
        clear.clicked.connect(model.clear_sources)
        buttons = QHBoxLayout()
        for button in (add, sample, clear):
            buttons.addWidget(button)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._class_menu)
        self.report = HealthReportView(model)
        self.check = HealthCheck(model.tasks, self)
        self.check.progress.connect(self.report.checking)
        self.check.finished.connect(self._report_ready)
        self.check.split_ready.connect(self._show_split)
        self.report.cancel_requested.connect(self.check.cancel)
        self.grid_model = ThumbnailModel(model.tasks, self)
        self.grid = make_grid_view(self.grid_model)
        self.grid.doubleClicked.connect(self.open_viewer)
        self.grid.clicked.connect(lambda cell: self.image_picked.emit(Path(cell.data(PathRole))))
        self.grid.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.grid.customContextMenuRequested.connect(self._image_menu)
        self.filters = GridFilters(self.grid_model, self.grid)
        # The image grid and the health report need room: the window shows them as tabs of
        # its central area (``images_page`` and ``report``); this dock keeps the classes.
        self.images_page = QWidget(objectName="imagesPage")
        images_layout = QVBoxLayout(self.images_page)
        images_layout.setContentsMargins(0, 0, 0, 0)
        images_layout.addWidget(self.filters)
        images_layout.addWidget(self.grid, 1)
        self.viewers: list[ImageViewer] = []
        self.last_report = None
        self.split = None  # the DataSplit the trainer will use, once worked out
        self._kinds: list[str] = []  # the problem kinds found, in reading order
        self._sources = ""
        self._split_key: tuple = ()
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.warning)
        model.scan_started.connect(self._scan_started)
        model.config_changed.connect(deferred(self._config_changed))
        model.dataset_changed.connect(self.show_index)
        model.scan_failed.connect(self._scan_failed)
        model.sources_rejected.connect(lambda _message: self._show_summary(model.index))

    def show_index(self, index) -> None:
        self.tree.clear()
        counts = index.counts
        for name, count in counts.items():
            item = QTreeWidgetItem([name, f"{count:,}"])
            item.setData(0, Qt.ItemDataRole.UserRole, name)
            item.setToolTip(1, f"{count:,} files found; checking which can be used…")
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.tree.addTopLevelItem(item)
        self._show_edits()
        self.last_report, self.split = None, None
        self.report.clear()
        self.grid_model.set_index(index)
        self.filters.reset(list(index.classes), [])
        if len(index) or index.empty_classes or index.unsupported:
            self._split_key = self._current_split_key()
            later(self._start_check)  # workers start once the window has shown the data
        self._show_summary(index)
        self._warn(counts)
        later(self._load_thumbnails)

    def _show_summary(self, index) -> None:
        sources = ", ".join(Path(p).name for p in self.model.sources)
        self._sources = sources
        if index is None or len(index) == 0:
            self.summary.setText("No images yet. Drop folders on the window.")
        else:
            self.summary.setText(
                f"<b>{len(index.classes)} classes</b> · {len(index):,} files found, "
                f"checking…<br><span style='color:gray'>from {sources}</span>"
            )

    def _warn(self, counts: dict[str, int]) -> None:
        text = ""
        if len(counts) == 1:
            text = "Only one class so far: add at least one more folder to train a classifier."
        elif counts and min(counts.values()) and max(counts.values()) / min(counts.values()) > 3:
            text = (
                "Classes are unbalanced (largest over 3× the smallest): the model may favour "
                "the big classes. Add images to the small ones if you can."
            )
        self.warning.setText(text)
        self.warning.setVisible(bool(text))

    def _scan_failed(self, message: str) -> None:
        self.summary.setText(message)
        self.check.cancel()
        self.report.clear()
        self.grid_model.set_index(None)

    # -- health report and grid -------------------------------------------------------------
    def _scan_started(self) -> None:
        self.summary.setText("Scanning folders…")

    def _report_ready(self, report, split) -> None:
        index = self.model.index
        if index is None:
            return
        self.last_report = report
        self.model.digests = report.digests
        self.report_ready.emit(report)
        self.report.show_report(report)
        kinds = report.kinds_by_path()
        present = {kind for found in kinds.values() for kind in found}
        self._kinds = [k for k in KIND_TITLES if k in present]
        self.filters.reset(list(index.classes), self._kinds)
        self.grid_model.set_details(kinds=kinds)
        if split is not None:
            self._show_split(split)
        self._config_changed()  # the user may have edited while the check ran

    def _current_split_key(self) -> tuple:
        config = self.model.config
        return config.data.model_dump_json(), config.train.seed

    def _config_changed(self) -> None:
        """Exclusions, relabels, renames, shares or the seed changed (here, in the health
        report's fixes or in the label-issue tab): split again (off the GUI thread); the
        counts, the class list and the grid follow once it is done."""
        self._show_edits()
        self.grid.viewport().update()
        index = self.model.index
        if self.last_report is None or index is None or self.check.running:
            return
        key = self._current_split_key()
        if key != self._split_key:
            self._split_key = key
            config = self.model.config
            self.check.resplit(
                index,
                config.data,
                config.train.seed,
                self.model.digests,
                self.last_report.unreadable,
            )

    def _show_split(self, split) -> None:
        """The split the trainer will use is the one count every panel shows: images per
        class (edits applied, unreadable files left out) in the class list, the chart and
        the summary, the totals per split in the report, each file's class and split in the
        grid (files left out have none)."""
        index = self.model.index
        if index is None or self.last_report is None:
            return
        self.split = split
        self.report.show_split(split.totals())
        edited = split.index
        class_of = {p: edited.classes[c] for p, c in zip(edited.paths, edited.labels, strict=True)}
        self.grid_model.set_details(split_of=split.split_of(), class_of=class_of)
        counts = split.counts()
        per_class = {name: sum(per.values()) for name, per in counts.items()}
        for name in self.last_report.classes:
            if name in index.empty_classes:
                per_class.setdefault(name, 0)
        self.report.show_counts(dict(sorted(per_class.items())))
        self._warn({name: n for name, n in per_class.items() if n})
        self.filters.reset(list(edited.classes), self._kinds)
        data = self.model.config.data
        found = index.counts
        for row in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(row)
            name = item.data(0, Qt.ItemDataRole.UserRole)
            if name in data.excluded_classes:
                item.setText(1, "—")
                item.setToolTip(1, "excluded: not trained on")
                continue
            new_name = data.class_names.get(name, name)
            per = counts.get(new_name, {})
            item.setText(1, f"{sum(per.values()):,}")
            parts = " · ".join(f"{k} {per.get(k, 0):,}" for k in ("train", "val", "test"))
            item.setToolTip(1, parts if new_name == name else f"{new_name}: {parts}")
            item.setStatusTip(1, f"{found.get(name, 0):,} files in the folder")
        used, unreadable = len(edited.paths), len(self.last_report.unreadable & set(index.paths))
        left_out = len(index) - used - unreadable
        notes = [f"{len(index):,} files found"]
        if unreadable:
            notes.append(f"{unreadable:,} unreadable")
        if left_out > 0:
            notes.append(f"{left_out:,} excluded")
        self.summary.setText(
            f"<b>{len(edited.classes)} classes</b> · <b>{used:,} images to train with</b><br>"
            f"<span style='color:gray'>{', '.join(notes)} · from {self._sources}</span>"
        )

    def open_viewer(self, cell: QModelIndex) -> None:
        index = self.model.index
        if index is None or not cell.isValid():
            return
        i = self.grid_model.rows[cell.row()]
        viewer = ImageViewer(index.paths[i], index.classes[index.labels[i]], self)
        viewer.finished.connect(lambda _: self.viewers.remove(viewer))
        self.viewers.append(viewer)
        viewer.show()

    # -- exclude, include, rename (kept in the project; files untouched) --------------------
    def set_class_excluded(self, name: str, excluded: bool) -> None:
        names = [c for c in self.model.config.data.excluded_classes if c != name]
        self.model.update("data", excluded_classes=[*names, name] if excluded else names)
        self._show_edits()

    def set_images_excluded(self, paths: list[Path], excluded: bool) -> None:
        current = [p for p in self.model.config.data.excluded_files if p not in paths]
        self.model.update("data", excluded_files=current + paths if excluded else current)
        self.grid_model.excluded = set(self.model.config.data.excluded_files)
        self.grid.viewport().update()

    def rename_class(self, name: str, new_name: str) -> None:
        names = dict(self.model.config.data.class_names)
        new_name = new_name.strip()
        if not new_name or new_name == name:
            names.pop(name, None)
        else:
            names[name] = new_name
        self.model.update("data", class_names=names)
        self._show_edits()

    def _show_edits(self) -> None:
        data = self.model.config.data
        for row in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(row)
            name = item.data(0, Qt.ItemDataRole.UserRole)
            excluded = name in data.excluded_classes
            item.setText(0, data.class_names.get(name, name))
            item.setToolTip(0, f"folder name: {name}" + (" · excluded" if excluded else ""))
            # An excluded class is muted; the others keep no colour of their own, so they
            # follow the palette (a colour read here would be the disabled grey while a run
            # has the dock disabled, and would stay grey after it).
            muted = self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
            item.setData(0, Qt.ItemDataRole.ForegroundRole, QBrush(muted) if excluded else None)
            font = item.font(0)
            font.setStrikeOut(excluded)
            item.setFont(0, font)
        self.grid_model.excluded = set(data.excluded_files)

    def _class_menu(self, pos: QPoint) -> None:
        item = self.tree.itemAt(pos)
        if item is None:
            return
        name = item.data(0, Qt.ItemDataRole.UserRole)
        excluded = name in self.model.config.data.excluded_classes
        menu = QMenu(self)
        toggle = menu.addAction("Include class" if excluded else "Exclude class")
        rename = menu.addAction("Rename class…")
        chosen = menu.exec(self.tree.viewport().mapToGlobal(pos))
        if chosen is toggle:
            self.set_class_excluded(name, not excluded)
        elif chosen is rename:
            text, ok = QInputDialog.getText(self, "Rename class", f"New name for {name}:")
            if ok:
                self.rename_class(name, text)

    def _image_menu(self, pos: QPoint) -> None:
        paths = [Path(i.data(PathRole)) for i in self.grid.selectionModel().selectedIndexes()]
        if not paths:
            return
        menu = QMenu(self)
        exclude = menu.addAction(f"Exclude {len(paths)} image(s)")
        include = menu.addAction(f"Include {len(paths)} image(s)")
        chosen = menu.exec(self.grid.viewport().mapToGlobal(pos))
        if chosen in (exclude, include):
            self.set_images_excluded(paths, chosen is exclude)

    def _start_check(self) -> None:
        self.check.start(self.model.index, self.model.config.data, self.model.config.train.seed)

    def _load_thumbnails(self) -> None:
        """The first image of each class beside its name, decoded on a worker."""
        index = self.model.index
        firsts: dict[int, Path] = {}
        for path, label in zip(index.paths, index.labels, strict=True):
            firsts.setdefault(label, path)

        def load() -> dict[int, object]:
            thumbs = {}
            for label, path in firsts.items():
                try:
                    thumbs[label] = thumbnail(path, THUMB)
                except Exception:
                    continue
            return thumbs

        def show(thumbs: dict[int, object]) -> None:
            if self.model.index is not index:
                return  # a newer scan replaced this one
            for label, rgb in thumbs.items():
                item = self.tree.topLevelItem(label)
                if item is not None:
                    item.setIcon(0, QIcon(to_pixmap(rgb)))

        self.model.tasks.start(load, show)
