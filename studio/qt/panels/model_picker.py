"""The model picker dock: which architecture, and whether it starts pre-trained."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.engine.catalog import CATALOG
from studio.qt.project_model import ProjectModel

WEIGHT_CHOICES = [
    ("imagenet", "Pre-trained on ImageNet (recommended)"),
    ("none", "From scratch (random weights)"),
    ("file", "From a weights file…"),
]


class ModelPickerPanel(QWidget):
    """Lists the catalogue; edits ``config.model.name`` and ``config.model.weights``."""

    def __init__(self, model: ProjectModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.list = QListWidget()
        self.list.setObjectName("modelList")
        self.list.setAccessibleName("Models")
        for spec in CATALOG.values():
            item = QListWidgetItem(f"{spec.title}\n{spec.good_for}")
            item.setData(Qt.ItemDataRole.UserRole, spec.name)
            item.setToolTip(spec.good_for)
            self.list.addItem(item)
        self.list.setWordWrap(True)
        self.list.currentItemChanged.connect(self._picked)
        self.weights = QComboBox()
        self.weights.setObjectName("weightsInput")
        self.weights.setAccessibleName("Starting weights")
        for key, label in WEIGHT_CHOICES:
            self.weights.addItem(label, key)
        self.weights.setToolTip(
            "Pre-trained weights already know edges, textures and shapes from 1.2 million "
            "photos: fine-tuning them needs far fewer images than training from scratch."
        )
        self.weights.activated.connect(self._weights_chosen)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setObjectName("hint")
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addWidget(QLabel("Start from"))
        layout.addWidget(self.weights)
        layout.addWidget(self.note)
        model.config_changed.connect(self.sync_from_model)
        self.sync_from_model()

    def _picked(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        spec = CATALOG[item.data(Qt.ItemDataRole.UserRole)]
        weights = self.model.config.model.weights
        if not spec.has_pretrained:
            weights = "none"
        elif weights == "none" and self.model.config.model.name == "small_cnn":
            weights = "imagenet"  # moving to a pre-trainable model: suggest its weights
        self.model.update("model", name=spec.name, weights=weights)

    def _weights_chosen(self, row: int) -> None:
        key = self.weights.itemData(row)
        if key == "file":
            path, _ = QFileDialog.getOpenFileName(
                self, "Load weights file", "", "Weights (*.pth *.pt *.safetensors)"
            )
            if not path:
                self.sync_from_model()
                return
            key = path
        self.model.update("model", weights=key)

    def sync_from_model(self) -> None:
        cfg = self.model.config.model
        spec = CATALOG.get(cfg.name)
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == cfg.name and self.list.currentRow() != row:
                self.list.blockSignals(True)
                self.list.setCurrentRow(row)
                self.list.blockSignals(False)
        key = cfg.weights if cfg.weights in ("imagenet", "none") else "file"
        self.weights.setCurrentIndex(self.weights.findData(key))
        pretrained_ok = spec is not None and spec.has_pretrained
        self.weights.model().item(0).setEnabled(pretrained_ok)
        self.weights.model().item(2).setEnabled(pretrained_ok)
        if spec is None:
            self.note.setText("")
        elif not spec.has_pretrained:
            self.note.setText(
                "Trains from scratch: fine for small, simple images like the sample digits. "
                "For photos, pick a pre-trained model."
            )
        elif key == "file":
            self.note.setText(f"Weights from {Path(cfg.weights).name}.")
        else:
            self.note.setText(
                f"{spec.title} was pre-trained on {spec.default_image_size} px images; set "
                f"Image size near that for the best accuracy (slower on a CPU)."
            )
