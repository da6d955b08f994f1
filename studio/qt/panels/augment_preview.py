"""The augmentation dock: switch augmentations and see what training will really draw."""

from __future__ import annotations

import random
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.config import AugmentConfig
from studio.qt.forms import field, tooltip
from studio.qt.images import to_pixmap
from studio.qt.project_model import ProjectModel

VARIANTS = 8
TILE = 76


class AugmentationPreviewPanel(QWidget):
    """Edits ``config.augment`` and renders variants off the GUI thread, latest request wins.

    ``preview_ready()`` fires on the GUI thread when a grid has been drawn.
    """

    preview_ready = Signal()

    def __init__(self, model: ProjectModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.seed = 0
        self.image_path: Path | None = None
        self._busy = False
        self._pending = False
        self._last_key: tuple[str, int] | None = None
        self.preset = QComboBox()
        self.preset.setObjectName("augmentPresetInput")
        self.preset.setAccessibleName("Augmentation preset")
        self.preset.addItem("None", "none")
        self.preset.addItem("Light", "light")
        self.preset.setToolTip(tooltip(field(AugmentConfig, "preset")))
        self.preset.activated.connect(
            lambda row: model.update("augment", preset=self.preset.itemData(row))
        )
        self.flip = QCheckBox("Horizontal flip")
        self.flip.setObjectName("horizontalFlipInput")
        self.flip.setToolTip(tooltip(field(AugmentConfig, "horizontal_flip")))
        self.flip.toggled.connect(lambda on: model.update("augment", horizontal_flip=on))
        reroll = QPushButton("Reroll")
        reroll.setToolTip("Draw new random variants.")
        reroll.clicked.connect(self.reroll)
        shuffle = QPushButton("Other image")
        shuffle.setToolTip("Preview a random image of a random class.")
        shuffle.clicked.connect(self.shuffle_image)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Preset"))
        controls.addWidget(self.preset, 1)
        controls.addWidget(self.flip)
        buttons = QHBoxLayout()
        buttons.addWidget(reroll)
        buttons.addWidget(shuffle)
        self.caption = QLabel("Add images to preview augmentations.")
        self.caption.setWordWrap(True)
        self.caption.setObjectName("hint")
        self.tiles: list[QLabel] = []
        grid = QGridLayout()
        grid.setSpacing(4)
        for i in range(VARIANTS + 1):
            tile = QLabel()
            tile.setFixedSize(TILE, TILE)
            tile.setAlignment(Qt.AlignmentFlag.AlignCenter)
            tile.setObjectName("previewTile")
            tile.setToolTip("Original (resized)" if i == 0 else f"Augmented variant {i}")
            grid.addWidget(tile, i // 3, i % 3)
            self.tiles.append(tile)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addLayout(grid)
        layout.addLayout(buttons)
        layout.addWidget(self.caption)
        layout.addStretch(1)
        model.config_changed.connect(self._config_changed)
        model.dataset_changed.connect(self._dataset_changed)
        self._sync_controls()

    def reroll(self) -> None:
        self.seed += 1
        self.request()

    def shuffle_image(self) -> None:
        index = self.model.index
        if index is not None and len(index):
            self.image_path = random.choice(index.paths)
            self.request()

    def request(self) -> None:
        """Render the grid for the current settings; while busy, only the latest is kept."""
        if self.image_path is None:
            return
        if self._busy:
            self._pending = True
            return
        self._busy = True
        cfg = self.model.config.augment.model_copy()  # the worker must not see later edits
        size = self.model.config.train.image_size
        path, seed = self.image_path, self.seed

        def render():
            from studio.engine.augment import preview
            from studio.engine.images import load_rgb

            image = load_rgb(path)
            original = preview(image, AugmentConfig(preset="none"), size, 1, 0)
            return path, original + preview(image, cfg, size, VARIANTS, seed)

        self.model.tasks.start(render, self._rendered, self._failed)

    def _rendered(self, result) -> None:
        path, images = result
        for tile, rgb in zip(self.tiles, images, strict=False):
            tile.setPixmap(
                to_pixmap(rgb).scaled(
                    TILE,
                    TILE,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
        self.caption.setText(
            f"{path.parent.name}/{path.name}: the original and {VARIANTS} variants, as the "
            f"trainer draws them. Keep variations realistic."
        )
        self._done()
        self.preview_ready.emit()

    def _failed(self, exc: Exception) -> None:
        self.caption.setText(f"Cannot preview: {exc}")
        self._done()

    def _done(self) -> None:
        self._busy = False
        if self._pending:
            self._pending = False
            self.request()

    def _dataset_changed(self, index) -> None:
        self.image_path = index.paths[0] if len(index) else None
        self.request()

    def _config_changed(self) -> None:
        self._sync_controls()
        key = (self.model.config.augment.model_dump_json(), self.model.config.train.image_size)
        if key != self._last_key:  # epochs or learning rate do not change the preview
            self._last_key = key
            self.request()

    def _sync_controls(self) -> None:
        cfg = self.model.config.augment
        self.preset.setCurrentIndex(self.preset.findData(cfg.preset))
        self.flip.blockSignals(True)
        self.flip.setChecked(cfg.horizontal_flip)
        self.flip.blockSignals(False)
        self.flip.setEnabled(cfg.preset != "none")
