"""Shared fixtures: offscreen Qt, private folders, and tiny generated image datasets."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["NO_ALBUMENTATIONS_UPDATE"] = "1"

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QSpinBox

from studio.qt import MainWindow
from studio.qt.later import queue
from studio.qt.main_window import file_urls

COLOURS = {"cats": (200, 40, 40), "dogs": (40, 200, 40), "birds": (40, 40, 200)}


@pytest.fixture(autouse=True)
def private_homes(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Runs and weight caches go to temporary folders, never the user's."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("STUDIO_HOME", str(home / "studio"))
    monkeypatch.setenv("TORCH_HOME", str(home / "torch"))
    return home


def make_dataset(root: Path, per_class: int = 12, size: int = 32, classes=COLOURS) -> Path:
    """A root of class folders; each class has its own colour plus noise, so it is learnable."""
    rng = np.random.default_rng(0)
    for name, colour in classes.items():
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            noise = rng.integers(-40, 40, size=(size, size, 3))
            pixels = np.clip(np.array(colour) + noise, 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{name}_{i:02d}.png")
    return root


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """A 3-class 32x32 dataset of 12 images per class."""
    return make_dataset(tmp_path / "data")


def make_noise_dataset(root: Path, per_class: int = 20, size: int = 16) -> Path:
    """Two classes of pure noise: nothing to learn, everything to memorise (overfits fast)."""
    rng = np.random.default_rng(0)
    for name in ("heads", "tails"):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = rng.integers(0, 255, size=(size, size, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{name}_{i:02d}.png")
    return root


@pytest.fixture
def noise_dataset(tmp_path: Path) -> Path:
    return make_noise_dataset(tmp_path / "noise")


TRAIN_TIMEOUT = 120_000


@pytest.fixture
def window(qtbot):
    return open_window(qtbot)


def open_window(qtbot, **options) -> MainWindow:
    """A shown main window that the test's end closes as a user does (waiting until it has
    really gone) before pytest-qt deletes it."""
    win = MainWindow(**options)
    win.closed.connect(lambda: setattr(win, "gone", True))
    qtbot.addWidget(win, before_close_func=lambda w: close_window(qtbot, w))
    win.show()
    return win


def close_window(qtbot, win: MainWindow) -> None:
    """Close as the user does and wait until the window has really gone: every worker ended,
    none left running. Nothing to do for a window already closed."""
    if not getattr(win, "gone", False):
        with qtbot.waitSignal(win.closed, timeout=TRAIN_TIMEOUT):
            win.close()
    assert not win.isVisible()
    assert not win.controller.running
    assert not win.model.tasks.busy


def drop_folders(qtbot, window: MainWindow, folders: list[Path]) -> None:
    """Send the drag-enter and drop events a file manager sends, and wait for the scan."""
    mime = QMimeData()
    mime.setUrls(file_urls(folders))
    action, button = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton
    enter = QDragEnterEvent(QPoint(400, 300), action, mime, button, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(400, 300), action, mime, button, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.model.dataset_changed, timeout=10_000):
        QApplication.sendEvent(window, drop)
    settle(qtbot)


def settle(qtbot) -> None:
    """Wait until every panel has refreshed from the project model (each refreshes in a
    pass of the event loop of its own, see :mod:`studio.qt.later`)."""
    qtbot.waitUntil(lambda: queue().idle)


def set_knobs(window: MainWindow, epochs: int, image_size: int = 32, batch_size: int = 8) -> None:
    """Type the run's length and size as a user does; they are the user's values from then
    on (even one the box already showed), so the settings that follow the data (up to 40
    epochs) never lengthen a test's run when a scan finishes."""
    window.findChild(QSpinBox, "epochsInput").setValue(epochs)
    window.findChild(QSpinBox, "imageSizeInput").setValue(image_size)
    window.findChild(QSpinBox, "batchSizeInput").setValue(batch_size)
    window.model.update("train", epochs=epochs, image_size=image_size, batch_size=batch_size)
