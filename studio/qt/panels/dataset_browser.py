"""The dataset browser dock: the folders in use, their classes, counts and a sample of each."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.qt.images import thumbnail, to_pixmap
from studio.qt.project_model import ProjectModel

THUMB = 40


class DatasetBrowserPanel(QWidget):
    """Shows the scanned dataset; its buttons ask the window to add or clear folders."""

    add_folder_requested = Signal()
    sample_requested = Signal()

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
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.warning)
        model.scan_started.connect(lambda: self.summary.setText("Scanning folders…"))
        model.dataset_changed.connect(self.show_index)
        model.scan_failed.connect(self._scan_failed)

    def show_index(self, index) -> None:
        self.tree.clear()
        counts = index.counts
        for name, count in counts.items():
            item = QTreeWidgetItem([name, f"{count:,}"])
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.tree.addTopLevelItem(item)
        sources = ", ".join(Path(p).name for p in self.model.sources)
        if len(index) == 0:
            self.summary.setText("No images yet. Drop folders on the window.")
        else:
            self.summary.setText(
                f"<b>{len(index.classes)} classes</b> · {len(index):,} images<br>"
                f"<span style='color:gray'>from {sources}</span>"
            )
        self._warn(counts)
        self._load_thumbnails(index)

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

    def _load_thumbnails(self, index) -> None:
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
