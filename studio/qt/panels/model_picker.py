"""The model picker dock: which architecture, what it starts from, and how to fine-tune it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.config import ModelConfig
from studio.engine.models.catalog import CATALOG
from studio.qt.forms import field, tooltip
from studio.qt.later import deferred
from studio.qt.panels.resolved_settings import ResolvedSettings, with_reason
from studio.qt.project_model import ProjectModel
from studio.qt.steady import ProgressBar

WEIGHT_CHOICES = [
    ("imagenet", "Pre-trained on ImageNet (recommended)"),
    ("none", "From scratch (random weights)"),
    ("file", "From a weights file…"),
]
STRATEGIES = [
    (
        "linear",
        "Linear probe",
        "Backbone frozen, only the new head learns: fastest, and good with few images.",
    ),
    (
        "partial",
        "Partial fine-tune",
        "The head and the backbone's last stages learn, the backbone more gently.",
    ),
    (
        "full",
        "Full fine-tune",
        "Everything learns; pre-trained layers at a lower learning rate "
        "so they keep what they know.",
    ),
    (
        "scratch",
        "From scratch",
        "Random weights: needs far more images and epochs. Use it for tiny or unusual images.",
    ),
]
COLUMNS = ["Model", "Params (M)", "GFLOPs", "ImageNet top-1", "Input px", "Weights", "State"]
KEYS = [None, "params_m", "gflops", "top1", "image_size", "weights_mb", "weights"]


class _Number(QTableWidgetItem):
    """A cell that sorts by its number, not its text."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine = self.data(Qt.ItemDataRole.UserRole)
        theirs = other.data(Qt.ItemDataRole.UserRole)
        if isinstance(mine, int | float) and isinstance(theirs, int | float):
            return mine < theirs
        if isinstance(mine, int | float) != isinstance(theirs, int | float):
            return isinstance(mine, int | float)  # numbers before blanks
        return self.text() < other.text()


class ModelPickerPanel(QWidget):
    """Edits ``config.model``. The catalogue's numbers come from torchvision's metadata,
    read on a worker thread (``catalogue_loaded()`` fires when the table is filled)."""

    catalogue_loaded = Signal()
    weights_rejected = Signal(str)  # why a weights file was refused
    download_finished = Signal(str)
    download_progressed = Signal(int)  # percent, emitted on the download's worker

    def __init__(self, model: ProjectModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.rows: dict[str, dict[str, Any]] = {}
        self._token = None
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter models…")
        self.filter.setObjectName("modelFilter")
        self.filter.setAccessibleName("Filter models")
        self.filter.textChanged.connect(self._apply_filter)
        self.table = QTableWidget(len(CATALOG), len(COLUMNS))
        self.table.setObjectName("modelTable")
        self.table.setAccessibleName("Models")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for row, spec in enumerate(CATALOG.values()):
            item = _Number(spec.title)
            item.setData(Qt.ItemDataRole.UserRole + 1, spec.name)
            item.setToolTip(spec.good_for)
            self.table.setItem(row, 0, item)
        self.table.itemSelectionChanged.connect(self._picked)
        self.good_for = QLabel()
        self.good_for.setWordWrap(True)
        self.good_for.setObjectName("hint")
        self.weights = QComboBox()
        self.weights.setObjectName("weightsInput")
        self.weights.setAccessibleName("Starting weights")
        for key, label in WEIGHT_CHOICES:
            self.weights.addItem(label, key)
        self.weights_help = (
            "Pre-trained weights already know edges, textures and shapes from 1.2 million "
            "photos: fine-tuning them needs far fewer images than training from scratch."
        )
        self.weights.activated.connect(self._weights_chosen)
        self.strategy = QComboBox()
        self.strategy.setObjectName("strategyInput")
        self.strategy.setAccessibleName("Fine-tuning strategy")
        for key, label, _ in STRATEGIES:
            self.strategy.addItem(label, key)
        self.strategy.activated.connect(self._strategy_chosen)
        self.unfreeze = QSpinBox()
        self.unfreeze.setObjectName("unfreezeInput")
        self.unfreeze.setAccessibleName("Stages to unfreeze")
        self.unfreeze.setRange(1, 20)
        self.unfreeze.setToolTip(tooltip(field(ModelConfig, "unfreeze")))
        self.unfreeze.valueChanged.connect(lambda n: model.update("model", unfreeze=n))
        self.explain = QLabel()
        self.explain.setWordWrap(True)
        self.explain.setObjectName("hint")
        self.download = QPushButton("Download weights")
        self.download.setObjectName("downloadWeightsButton")
        self.download.clicked.connect(self._download_clicked)
        self.progress = ProgressBar()
        self.progress.setObjectName("downloadProgress")
        self.download_progressed.connect(self.progress.setValue)
        self.progress.hide()
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setObjectName("hint")
        self.resolved = ResolvedSettings(model)
        form = QFormLayout()
        form.addRow("Start from", self.weights)
        form.addRow("Fine-tuning", self.strategy)
        form.addRow("Stages to unfreeze", self.unfreeze)
        downloads = QHBoxLayout()
        downloads.addWidget(self.download)
        downloads.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.good_for)
        layout.addLayout(form)
        layout.addWidget(self.explain)
        layout.addLayout(downloads)
        layout.addWidget(self.note)
        layout.addWidget(self.resolved)
        model.config_changed.connect(deferred(self.sync_from_model))
        model.machine_detected.connect(deferred(self.sync_from_model))
        self.download_finished.connect(lambda _: self.load_catalogue())
        self.sync_from_model()

    # -- catalogue ----------------------------------------------------------------------
    def load_catalogue(self) -> None:
        """Read parameters, GFLOPs, accuracy and weights state off the GUI thread."""

        def read() -> list[dict[str, Any]]:
            from studio.engine.models.info import catalogue

            return catalogue()

        self.model.tasks.start(read, self._fill, lambda exc: self.note.setText(str(exc)))

    def _fill(self, rows: list[dict[str, Any]]) -> None:
        self.rows = {row["name"]: row for row in rows}
        self.table.setSortingEnabled(False)
        for row in range(self.table.rowCount()):
            name = self._name_at(row)
            info = self.rows.get(name, {})
            for column, key in enumerate(KEYS[1:], start=1):
                value = info.get(key)
                text = (
                    "–"
                    if value is None
                    else (f"{value:g}" if isinstance(value, float) else str(value))
                )
                item = _Number(text)
                item.setData(Qt.ItemDataRole.UserRole, value)
                if isinstance(value, int | float):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(row, column, item)
        if self.table.horizontalHeader().sortIndicatorSection() >= len(COLUMNS) or not (
            self.table.isSortingEnabled()
        ):  # keep the catalogue's order (small to large) until a header is clicked
            self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.sync_from_model()
        self.catalogue_loaded.emit()

    def _name_at(self, row: int) -> str:
        return self.table.item(row, 0).data(Qt.ItemDataRole.UserRole + 1)

    def _apply_filter(self, text: str) -> None:
        text = text.lower()
        for row in range(self.table.rowCount()):
            spec = CATALOG[self._name_at(row)]
            hit = text in f"{spec.title} {spec.name} {spec.good_for}".lower()
            self.table.setRowHidden(row, not hit)

    # -- edits --------------------------------------------------------------------------
    def _picked(self) -> None:
        """A model was clicked: the resolver derives its weights, fine-tuning and image
        size (a weights file belongs to the previous architecture, so it is let go)."""
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        name = self._name_at(rows[0].row())
        file = self.model.config.model.weights not in ("imagenet", "none")
        self.model.update("model", name=name, derive=("model.weights",) if file else ())

    def _weights_chosen(self, row: int) -> None:
        key = self.weights.itemData(row)
        if key == "file":
            path, _ = QFileDialog.getOpenFileName(
                self, "Load weights file", "", "Weights (*.pth *.pt *.safetensors)"
            )
            if not path:
                self.sync_from_model()
                return
            self.load_weights_file(Path(path))
            return
        self._use_weights(key)

    def load_weights_file(self, path: Path) -> None:
        """Check ``path`` against the chosen architecture off the GUI thread; only a file
        that fits replaces the current weights (a bad one is explained, nothing changes)."""
        name = self.model.config.model.name
        self.note.setText(f"Checking {path.name}…")
        self.sync_from_model()  # the combo shows the current choice until the file is checked

        def check() -> str:
            from studio.engine.models.factory import create_model

            create_model(name, num_classes=2, weights=str(path))
            return str(path)

        def failed(exc: Exception) -> None:
            self.note.setText(str(exc))
            self.weights_rejected.emit(str(exc))

        self.model.tasks.start(check, self._use_weights, failed)

    def _use_weights(self, key: str) -> None:
        self.model.update("model", weights=key)

    def _strategy_chosen(self, row: int) -> None:
        self.model.update("model", strategy=self.strategy.itemData(row))

    # -- downloads ----------------------------------------------------------------------
    def _download_clicked(self) -> None:
        if self._token is not None:  # a download is running: this is the Cancel button
            self._token.stop()
            return
        from studio.engine.control import StopToken

        spec = CATALOG[self.model.config.model.name]
        self._token = token = StopToken()
        self.download.setText("Cancel")
        self.progress.setValue(0)
        self.progress.show()

        def fetch() -> str:
            from studio.engine.models.weights import download

            download(spec, self._report, token)
            return spec.name

        self.model.tasks.start(fetch, self._downloaded, self._download_failed, stop=token.stop)

    def _report(self, done: int, total: int) -> None:
        """Called on the worker thread: the signal queues the update to the GUI thread."""
        self.download_progressed.emit(int(100 * done / total) if total else 0)

    def _downloaded(self, name: str) -> None:
        self._download_done(f"{CATALOG[name].title} weights downloaded to the torch cache.")
        self.download_finished.emit(name)

    def _download_failed(self, exc: Exception) -> None:
        self._download_done(str(exc))

    def _download_done(self, text: str) -> None:
        self._token = None
        self.download.setText("Download weights")
        self.progress.hide()
        self.note.setText(text)

    # -- view ---------------------------------------------------------------------------
    def sync_from_model(self) -> None:
        cfg = self.model.config.model
        spec = CATALOG.get(cfg.name)
        for row in range(self.table.rowCount()):
            if self._name_at(row) == cfg.name and self.table.currentRow() != row:
                self.table.blockSignals(True)
                self.table.selectRow(row)
                self.table.blockSignals(False)
        key = cfg.weights if cfg.weights in ("imagenet", "none") else "file"
        self.weights.setCurrentIndex(self.weights.findData(key))
        self.strategy.setCurrentIndex(self.strategy.findData(cfg.strategy))
        resolution = self.model.resolution
        self.weights.setToolTip(with_reason(self.weights_help, resolution, "model.weights"))
        self.strategy.setToolTip(
            with_reason(tooltip(field(ModelConfig, "strategy")), resolution, "model.strategy")
        )
        self.unfreeze.blockSignals(True)
        self.unfreeze.setValue(cfg.unfreeze)
        self.unfreeze.blockSignals(False)
        self.unfreeze.setEnabled(cfg.strategy == "partial")
        pretrained_ok = spec is not None and spec.has_pretrained
        for row, (choice, _) in enumerate(WEIGHT_CHOICES):
            if choice != "none":
                self.weights.model().item(row).setEnabled(pretrained_ok)
        for row, (choice, _, _) in enumerate(STRATEGIES):
            if choice in ("linear", "partial", "full"):
                self.strategy.model().item(row).setEnabled(pretrained_ok)
        explain = next(text for k, _, text in STRATEGIES if k == cfg.strategy)
        if cfg.strategy == "linear" and self.model.config.train.feature_cache:
            if self.model.config.augment.active_steps():
                explain += (
                    " Augmentation is on, so every epoch runs the whole backbone; with "
                    "augmentation None, features are computed once and cached (much "
                    "faster)."
                )
            else:
                explain += " Without augmentation, backbone features are computed once and cached."
        self.explain.setText(explain)
        self.good_for.setText(spec.good_for if spec else "")
        state = self.rows.get(cfg.name, {}).get("weights")
        needs_download = key == "imagenet" and state == "downloadable"
        self.download.setVisible(needs_download or self._token is not None)
        if self._token is None:
            self.note.setText(self._note(spec, key, state))

    def _note(self, spec, key: str, state: str | None) -> str:
        if spec is None:
            return ""
        if not spec.has_pretrained:
            return (
                "Trains from scratch: fine for small, simple images like the sample "
                "digits. For photos, pick a pre-trained model."
            )
        if key == "file":
            return f"Weights from {Path(self.model.config.model.weights).name}."
        if key == "imagenet" and state == "downloadable":
            return (
                "The ImageNet weights are downloaded once into the torch cache (also "
                "when training starts). Offline? Use 'From a weights file…'."
            )
        return f"{spec.title} was pre-trained at {spec.default_image_size} px."
