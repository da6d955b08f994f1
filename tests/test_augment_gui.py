"""The augmentation dock on the real main window: edit, wait for the preview, look at it."""

from __future__ import annotations

from pathlib import Path

from conftest import drop_folders, settle
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLabel, QPushButton

from studio.qt import MainWindow
from studio.qt.later import queue
from studio.resources import sample_dataset

TIMEOUT = 30_000


def grid_images(window: MainWindow) -> list:
    panel = window.augment
    return [t.pixmap().toImage() for t in panel.tiles if t.isVisibleTo(panel)]


def load(qtbot, window: MainWindow, folder: Path) -> None:
    """Drop ``folder`` and wait until its preview, and anything else it set off, is done."""
    with qtbot.waitSignal(window.augment.preview_updated, timeout=TIMEOUT):
        drop_folders(qtbot, window, [folder])
    qtbot.waitUntil(lambda: queue().idle and not window.model.tasks.busy, timeout=TIMEOUT)


def test_edit_flip_and_rotation_then_the_grid_changes(qtbot, window, dataset: Path):
    load(qtbot, window, dataset)
    panel = window.augment
    before = grid_images(window)
    assert len(before) == 13  # the original and 12 variants
    assert "Original" in panel.tiles[0].toolTip()
    with qtbot.waitSignal(panel.preview_updated, timeout=TIMEOUT):
        qtbot.mouseClick(window.findChild(QCheckBox, "horizontal_flipEnabled"), Qt.LeftButton)
        window.findChild(QDoubleSpinBox, "rotate_degreesInput").setValue(60)
        window.findChild(QDoubleSpinBox, "rotateProbability").setValue(1.0)
    augment = window.model.config.augment
    assert not augment.horizontal_flip.enabled and augment.rotate.degrees == 60
    assert augment.rotate.p == 1.0 and augment.preset == "custom"
    assert window.findChild(QComboBox, "augmentPresetInput").currentData() == "custom"
    after = grid_images(window)
    assert after[0] == before[0]  # the original stays
    assert after[1:] != before[1:]
    assert all("Rotate" in tile.toolTip() for tile in panel.tiles[1:13])  # parameters on hover
    assert not any("Horizontal flip" in tile.toolTip() for tile in panel.tiles[1:13])


def test_seed_makes_the_grid_reproducible_and_reroll_changes_it(qtbot, window, dataset: Path):
    load(qtbot, window, dataset)
    first = grid_images(window)
    with qtbot.waitSignal(window.augment.preview_updated, timeout=TIMEOUT):
        window.findChild(QPushButton, "augmentRerollButton").click()
    assert grid_images(window)[1:] != first[1:]
    with qtbot.waitSignal(window.augment.preview_updated, timeout=TIMEOUT):
        window.augment.seed.setValue(0)
    assert grid_images(window) == first


def test_digit_classes_get_warnings_next_to_the_controls(qtbot, window):
    load(qtbot, window, sample_dataset())
    warning = window.findChild(QLabel, "horizontal_flipWarning")
    assert warning.isHidden()  # Studio turned flips off for digits, and says so
    assert "digits" in window.findChild(QLabel, "horizontal_flipReason").text()
    qtbot.mouseClick(window.findChild(QCheckBox, "horizontal_flipEnabled"), Qt.LeftButton)
    settle(qtbot)
    assert not warning.isHidden() and "digits" in warning.text()
    assert window.findChild(QLabel, "rotateWarning").isHidden()  # light: 10° is fine
    assert not window.findChild(QLabel, "augmentWarnings").isHidden()
    window.findChild(QDoubleSpinBox, "rotate_degreesInput").setValue(40)
    settle(qtbot)
    assert "6 and 9" in window.findChild(QLabel, "rotateWarning").text()
    window.augment.apply_preset("documents")
    settle(qtbot)
    assert warning.isHidden() and window.findChild(QLabel, "augmentWarnings").isHidden()


def test_training_batch_and_error_tile(qtbot, window, dataset: Path, tmp_path: Path):
    load(qtbot, window, dataset)
    window.model.update("train", batch_size=8)
    with qtbot.waitSignal(window.augment.preview_updated, timeout=TIMEOUT):
        window.findChild(QPushButton, "showTrainingBatchButton").click()
    assert window.augment.mode == "batch" and len(grid_images(window)) == 8
    assert "training batch" in window.augment.caption.text()
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with qtbot.waitSignal(window.augment.preview_updated, timeout=TIMEOUT):
        window.augment.set_image(broken)
    assert "unreadable" in window.augment.tiles[0].text()
    assert "Cannot read broken.png" in window.augment.caption.text()
    with qtbot.waitSignal(window.augment.preview_updated, timeout=TIMEOUT):
        window.findChild(QPushButton, "augmentOtherImageButton").click()
    assert window.augment.tiles[1].pixmap() is not None
    assert not window.augment.tiles[1].pixmap().isNull()
