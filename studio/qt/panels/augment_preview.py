"""The augmentation dock: design the pipeline by looking at it, on your own images.

A preset picker and the schema-generated :class:`PipelineEditor` edit ``config.augment``;
teaching warnings appear under the controls they concern. Below, the original and N variants
at the training image size, rendered off the GUI thread by the engine's one pipeline (the
trainer's), with the applied parameters on hover. Latest request wins.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio.config import AugmentConfig
from studio.config.augment import PRESET_TITLES, STEP_TYPES
from studio.config.errors import explain
from studio.engine.training.resolve import KEPT_AS_IS
from studio.qt.forms import field, tooltip
from studio.qt.images import to_pixmap
from studio.qt.later import deferred, later
from studio.qt.panels.augment_editor import PipelineEditor
from studio.qt.project_model import ProjectModel

VARIANTS = 12
COLUMNS = 4
TILE = 64


class AugmentationPreviewPanel(QWidget):
    """Edits ``config.augment`` and previews it.

    ``preview_updated()`` fires on the GUI thread whenever the grid has been redrawn (variants,
    a training batch, or error tiles). ``mode`` is ``"variants"`` or ``"batch"``.
    """

    preview_updated = Signal()
    _split_progress = Signal(int, int)

    def __init__(self, model: ProjectModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.image_path: Path | None = None
        self.count = VARIANTS
        self.mode = "variants"
        self.tiles: list[QLabel] = []
        self.captions: list[str] = []
        self.colours: dict[str, Any] | None = None
        self.batch: Any = None  # the FirstBatch shown in "batch" mode (files, tensors)
        self._busy = False
        self._pending = False
        self._token: Any = None  # stops a running batch job (hashing a big folder)
        self._shown_key: tuple | None = None
        self._next_class = 0

        self.preset = QComboBox()
        self.preset.setObjectName("augmentPresetInput")
        self.preset.setAccessibleName("Augmentation preset")
        self.preset.setToolTip(tooltip(field(AugmentConfig, "preset")))
        for key, title in PRESET_TITLES.items():
            self.preset.addItem(title, key)
        self.preset.activated.connect(lambda row: self.apply_preset(self.preset.itemData(row)))
        self.editor = PipelineEditor()
        self.editor.edited.connect(self._step_edited)
        self.editor.derive.connect(lambda step: self.model.use_derived(f"augment.{step}"))
        self.summary = QLabel()
        self.summary.setObjectName("augmentWarnings")
        self.summary.setAccessibleName("Augmentation warnings")
        self.summary.setWordWrap(True)
        self.summary.setProperty("warning", True)  # coloured by the theme
        self.summary.hide()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.editor)
        scroll.setObjectName("augmentEditor")

        self.seed = QSpinBox()
        self.seed.setObjectName("augmentSeedInput")
        self.seed.setAccessibleName("Preview seed")
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setPrefix("seed ")
        self.seed.setToolTip("The same seed draws the same variants: the grid is reproducible.")
        self.seed.valueChanged.connect(lambda _: self.show_variants())
        self.variants = QSpinBox()
        self.variants.setObjectName("augmentVariantsInput")
        self.variants.setAccessibleName("Number of variants")
        self.variants.setRange(1, 32)
        self.variants.setValue(VARIANTS)
        self.variants.setToolTip("How many augmented variants to draw.")
        self.variants.valueChanged.connect(self._count_changed)
        reroll = self._button("Reroll", "augmentRerollButton", "Draw new random variants.")
        reroll.clicked.connect(self.reroll)
        other = self._button(
            "Other image", "augmentOtherImageButton", "A random image of the next class."
        )
        other.clicked.connect(self.shuffle_image)
        batch = self._button(
            "Training batch",
            "showTrainingBatchButton",
            "Show the trainer's first batch: the same split, files, order, sampler and "
            "augmentation (resized, augmented, normalised), converted back for display.",
        )
        batch.clicked.connect(self.show_training_batch)

        self.grid = QGridLayout()
        self.grid.setSpacing(3)
        grid_box = QWidget()
        grid_box.setObjectName("augmentGrid")
        grid_layout = QVBoxLayout(grid_box)
        grid_layout.setContentsMargins(0, 0, 0, 0)
        grid_layout.addLayout(self.grid)
        grid_layout.addStretch(1)
        grid_scroll = QScrollArea()
        grid_scroll.setWidgetResizable(True)
        grid_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        grid_scroll.setWidget(grid_box)
        self.caption = QLabel("Add images to preview augmentations.")
        self.caption.setWordWrap(True)
        self.caption.setObjectName("hint")

        top = QHBoxLayout()
        top.addWidget(QLabel("Preset"))
        top.addWidget(self.preset, 1)
        row1 = QHBoxLayout()
        row1.addWidget(self.seed, 1)
        row1.addWidget(self.variants)
        row1.addWidget(reroll)
        row2 = QHBoxLayout()
        row2.addWidget(other)
        row2.addWidget(batch)
        preview = QWidget()
        preview_layout = QVBoxLayout(preview)
        preview_layout.setContentsMargins(0, 0, 0, 0)
        preview_layout.addLayout(row1)
        preview_layout.addLayout(row2)
        preview_layout.addWidget(grid_scroll, 1)
        preview_layout.addWidget(self.caption)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(scroll)
        splitter.addWidget(preview)
        splitter.setSizes([320, 380])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(splitter, 1)
        self._ensure_tiles(self.count + 1)
        self._split_progress.connect(self._splitting)
        model.config_changed.connect(deferred(self._config_changed))
        model.dataset_changed.connect(self._dataset_changed)
        model.facts_changed.connect(deferred(self._update_warnings))
        self._sync_controls()

    @staticmethod
    def _button(text: str, name: str, tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setAccessibleName(text)
        button.setToolTip(tip)
        return button

    # -- editing ------------------------------------------------------------------------
    def apply_preset(self, name: str) -> None:
        """Replace every step with preset ``name``'s; the steps the label-safety rules guard
        are Studio's again (a preset never turns flips on for digits)."""
        if name == "custom":
            self.model.update("augment", preset="custom")
            return
        steps = dict(AugmentConfig.from_preset(name))
        self.model.update("augment", derive=[f"augment.{s}" for s in steps], **steps)

    def _step_edited(self, step: str, values: dict) -> None:
        current = getattr(self.model.config.augment, step)
        try:
            new = STEP_TYPES[step].model_validate({**current.model_dump(), **values})
        except ValidationError as exc:
            self.summary.setText(explain(exc, STEP_TYPES[step]))
            self.summary.show()
            return
        self.model.update("augment", preset="custom", **{step: new})

    # -- what to preview ----------------------------------------------------------------
    def set_image(self, path: Path | None) -> None:
        self.image_path = path
        self.show_variants()

    def show_class(self, label: int) -> None:
        """A random image of class ``label`` (the browser's row)."""
        index = self.model.index
        if index is None:
            return
        paths = [p for p, lab in zip(index.paths, index.labels, strict=True) if lab == label]
        if paths:
            self._next_class = label + 1
            self.set_image(random.choice(paths))

    def shuffle_image(self) -> None:
        """A random image of the next class, cycling through the classes."""
        index = self.model.index
        if index is not None and len(index) and index.classes:
            self.show_class(self._next_class % len(index.classes))

    def reroll(self) -> None:
        self.seed.setValue((self.seed.value() + 1) % self.seed.maximum())

    def show_variants(self) -> None:
        self.mode = "variants"
        self.request()

    def show_training_batch(self) -> None:
        self.mode = "batch"
        self.request()

    def _count_changed(self, value: int) -> None:
        self.count = value
        self.show_variants()

    # -- rendering ----------------------------------------------------------------------
    def _key(self) -> tuple:
        cfg = self.model.config
        batch = self.mode == "batch"
        return (
            self.mode,
            self.image_path,
            cfg.augment.model_dump_json(),
            cfg.train.image_size,
            self.seed.value(),
            self.count,
            # what else the trainer's first batch depends on
            cfg.data.model_dump_json() if batch else "",
            (cfg.train.batch_size, cfg.train.seed, cfg.train.class_weighting) if batch else (),
            cfg.model.name if batch else "",
        )

    def request(self) -> None:
        """Render for the current settings; while a render runs, only the latest is kept."""
        if self.mode == "variants" and self.image_path is None:
            return
        if self.mode == "batch" and (self.model.index is None or not len(self.model.index)):
            return
        if self._busy:
            self._pending = True
            if self._token is not None:
                self._token.stop()  # a newer request wins: stop hashing for the old one
            return
        from studio.engine.control import StopToken

        self._busy = True
        key = self._key()
        self._token = StopToken() if self.mode == "batch" else None
        job = self._batch_job(self._token) if self._token else self._variants_job()
        stop = self._token.stop if self._token else None
        self.model.tasks.start(job, lambda grid: self._rendered(key, grid), self._failed, stop)

    def _variants_job(self):
        cfg = self.model.config.augment.model_copy(deep=True)  # later edits stay out
        size, count, seed, path = (
            self.model.config.train.image_size,
            self.count,
            self.seed.value(),
            self.image_path,
        )

        def render():
            from studio.engine.augment.preview import render_preview

            return render_preview(path, cfg, size, count, seed)

        return render

    def _batch_job(self, token):
        config = self.model.resolution.config  # what a run of these settings uses
        index, known = self.model.index, self.model.digests
        progress = self._split_progress.emit

        def render():
            from studio.engine.data.splits import split_dataset
            from studio.engine.training.batch_preview import training_batch

            seed = config.train.seed
            split = split_dataset(config.data, seed, index, known, token, progress)
            return None if split is None else training_batch(config, split)

        return render

    def _splitting(self, done: int, total: int) -> None:
        if self._busy and done < total:
            self.caption.setText(f"Splitting the images as the trainer does: {done:,}/{total:,}…")

    def _rendered(self, key: tuple, result) -> None:
        self._busy, self._token = False, None
        if self._pending:  # settings changed meanwhile: this result is stale
            self._pending = False
            self.request()
            return
        if result is None:  # stopped (the window is closing)
            return
        if key[0] == "variants" and key[1] != self.image_path:
            return  # the dataset changed meanwhile: that image is no longer shown
        grid, self.batch = result if isinstance(result, tuple) else (result, None)
        self._show(grid)
        self._shown_key = key
        self.preview_updated.emit()

    def _failed(self, exc: Exception) -> None:
        self._busy, self._token = False, None
        self.caption.setText(f"Cannot preview: {exc}")
        if self._pending:
            self._pending = False
            self.request()
            return
        self.preview_updated.emit()

    def _ensure_tiles(self, count: int) -> None:
        while len(self.tiles) < count:
            tile = QLabel()
            tile.setFixedSize(TILE, TILE)
            tile.setAlignment(Qt.AlignmentFlag.AlignCenter)
            tile.setObjectName("previewTile")
            tile.setWordWrap(True)
            i = len(self.tiles)
            self.grid.addWidget(tile, i // COLUMNS, i % COLUMNS)
            self.tiles.append(tile)
        for i, tile in enumerate(self.tiles):
            tile.setVisible(i < count)

    def _show(self, grid) -> None:
        self._ensure_tiles(max(len(grid.tiles), 1))
        self.captions = []
        for tile, item in zip(self.tiles, grid.tiles, strict=False):
            self.captions.append(item.caption)
            tile.setToolTip(item.caption)
            if item.image is None:
                tile.clear()
                tile.setText("⚠ unreadable")
                _mark(tile, "unreadable")
                continue
            original = self.mode == "variants" and tile is self.tiles[0]
            _mark(tile, "original" if original else "")
            tile.setPixmap(
                to_pixmap(item.image).scaled(
                    TILE,
                    TILE,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
        size = self.model.config.train.image_size
        if grid.error:
            self.caption.setText(grid.error)
        elif self.mode == "batch":
            self.caption.setText(
                f"The first training batch ({len(grid.tiles)} images at {size} px): the "
                "trainer's split, files, order and augmentation, converted back for display. "
                "Hover for each class and file."
            )
        elif self.image_path is not None:
            path = self.image_path
            self.caption.setText(
                f"{path.parent.name}/{path.name}: the original (first) and {self.count} "
                f"variants at {size} px, as the trainer draws them. Hover for what was applied."
            )

    # -- model --------------------------------------------------------------------------
    def reset(self) -> None:
        """No data: nothing previewed (the tiles of the last images go)."""
        self.image_path, self.batch, self._shown_key = None, None, None
        self.captions = []
        for tile in self.tiles:
            tile.clear()
            tile.setToolTip("")
            tile.setStyleSheet("")
        self.caption.setText("Add images to preview their augmentation.")

    def _dataset_changed(self, index) -> None:
        self.colours = None
        self._next_class = 0
        if not len(index):
            self.reset()
        self.image_path = index.paths[0] if len(index) else None
        later(self._update_warnings)
        later(self.show_variants)
        if len(index):
            later(self._read_colours)  # a worker, once the window has shown the data

    def _read_colours(self) -> None:
        """Whether the classes differ by colour (the warnings follow it), on a worker."""
        if not self.model.has_data:
            return
        index = self.model.index
        paths, labels, classes = list(index.paths), list(index.labels), list(index.classes)

        def colours():
            from studio.engine.augment.preview import class_colours

            return class_colours(paths, labels, classes)

        def done(result) -> None:
            if self.model.index is index:
                self.colours = result
                self._update_warnings()

        self.model.tasks.start(colours, done)

    def _config_changed(self) -> None:
        self._sync_controls()
        self._update_warnings()
        if self._key() != self._shown_key:  # epochs or learning rate do not change the preview
            self.request()

    def _sync_controls(self) -> None:
        cfg = self.model.config.augment
        self.preset.setCurrentIndex(self.preset.findData(cfg.preset))
        self.editor.set_config(cfg)

    def _update_reasons(self) -> None:
        """Next to each step Studio changed for these classes: what and why."""
        reasons, mine = {}, set()
        for name, setting in self.model.resolution.settings.items():
            section, _, step = name.partition(".")
            if section != "augment":
                continue
            if setting.source == "user":
                mine.add(step)
            elif not setting.reason.partition(": ")[2].startswith(KEPT_AS_IS):
                reasons[step] = setting.reason[:1].upper() + setting.reason[1:]
        self.editor.set_reasons(reasons, mine)

    def _update_warnings(self) -> None:
        from studio.engine.augment.advice import augmentation_warnings

        index = self.model.index
        classes = list(index.classes) if index is not None else []
        advice = augmentation_warnings(self.model.config.augment, classes, self.colours)
        self.editor.set_warnings(advice)
        self._update_reasons()
        self.summary.setText(
            f"⚠ {len(advice)} augmentation warning{'s' if len(advice) > 1 else ''} below."
            if advice
            else ""
        )
        self.summary.setVisible(bool(advice))


def _mark(tile: QLabel, state: str) -> None:
    """Frame a tile as the theme's style sheet says for ``state`` (unreadable, original)."""
    if tile.property("tile") != state:
        tile.setProperty("tile", state)
        tile.style().unpolish(tile)
        tile.style().polish(tile)
