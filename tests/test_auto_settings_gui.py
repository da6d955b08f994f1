"""Settings that follow the data, in the real window and the CLI: label-safe flips for
digits, the image size from the images and the model, the user's value always winning."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import drop_folders, make_dataset, settle
from PIL import Image, ImageDraw
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QLabel, QPushButton, QSpinBox, QToolButton, QWidget

from studio.cli.main import main

TIMEOUT = 30_000


def make_digits(root: Path, classes=("0", "1", "2", "3"), per_class: int = 6) -> Path:
    """Black digits drawn on white 28 px squares: text-like images, numeric class names."""
    for name in classes:
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            image = Image.new("RGB", (28, 28), "white")
            ImageDraw.Draw(image).text((8 + i % 3, 6 + i % 4), name, fill="black")
            image.save(folder / f"{name}_{i}.png")
    return root


def drop_and_read(qtbot, window, folders: list[Path]) -> None:
    with qtbot.waitSignal(window.model.facts_changed, timeout=TIMEOUT):
        drop_folders(qtbot, window, folders)
    settle(qtbot)


def test_digits_switch_flips_off_with_a_reason_and_the_users_choice_sticks(
    qtbot, window, tmp_path: Path
):
    drop_and_read(qtbot, window, [make_digits(tmp_path / "digits")])
    flip = window.findChild(QCheckBox, "horizontal_flipEnabled")
    reason = window.findChild(QLabel, "horizontal_flipReason")
    assert not flip.isChecked() and not window.model.config.augment.horizontal_flip.enabled
    assert not reason.isHidden() and "digits" in reason.text()
    auto = window.findChild(QToolButton, "horizontal_flipAutoButton")
    assert auto.isHidden()
    qtbot.mouseClick(flip, Qt.LeftButton)  # the user wants flips anyway
    settle(qtbot)
    assert window.model.config.augment.horizontal_flip.enabled and reason.isHidden()
    assert "augment.horizontal_flip" in window.model.config.user_set and not auto.isHidden()
    drop_and_read(qtbot, window, [make_digits(tmp_path / "more", classes=("4", "5"))])
    assert flip.isChecked() and window.model.config.augment.horizontal_flip.enabled
    qtbot.mouseClick(auto, Qt.LeftButton)  # hand it back: Studio turns it off again
    settle(qtbot)
    assert not flip.isChecked() and not reason.isHidden()
    qtbot.waitUntil(lambda: not window.model.tasks.busy, timeout=TIMEOUT)


def test_the_image_size_follows_the_data_and_the_model_in_window_and_cli(
    qtbot, window, tmp_path: Path, capsys
):
    data = make_dataset(tmp_path / "data", size=48)
    drop_and_read(qtbot, window, [data])
    size = window.findChild(QSpinBox, "imageSizeInput")
    assert size.value() == 48 and "48×48" in size.toolTip()
    window.model.update("model", name="resnet18")  # pre-trained: its native size
    assert window.model.config.train.image_size == 224
    for args, expected in (([], 48), (["--model", "resnet18"], 224)):
        assert main(["train", "--data", str(data), "--dry-run", "--json", *args]) == 0
        shown = json.loads(capsys.readouterr().out)
        assert shown["config"]["train"]["image_size"] == expected
        assert shown["settings"]["train.image_size"]["source"] == "derived"
    window.model.update("model", name="small_cnn")
    assert window.model.config.train.image_size == 48
    size.setValue(64)  # the user's value wins over the data's
    drop_and_read(qtbot, window, [make_dataset(tmp_path / "small", size=32)])
    assert window.model.config.train.image_size == 64
    assert main(["train", "--data", str(data), "--image-size", "64", "--dry-run"]) == 0
    assert "set by you" in capsys.readouterr().out


def test_the_preflight_button_checks_on_a_worker_and_lists_the_results(
    qtbot, window, dataset: Path
):
    drop_and_read(qtbot, window, [dataset])
    panel = window.findChild(QWidget, "preflightButton").parent()
    with qtbot.waitSignal(panel.checked, timeout=300_000) as signal:  # seconds when idle
        qtbot.mouseClick(window.findChild(QPushButton, "preflightButton"), Qt.LeftButton)
        assert not window.findChild(QPushButton, "preflightCancelButton").isHidden()
    assert signal.args[0].passed
    text = window.findChild(QLabel, "preflightResult").text()
    assert "All checks passed" in text and "ln(3)" in text
    qtbot.waitUntil(lambda: not window.model.tasks.busy, timeout=TIMEOUT)
