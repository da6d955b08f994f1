"""The window resolves settings exactly as ``studio train --dry-run`` does, and shows why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torchvision
from conftest import drop_folders, settle
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QToolButton,
)

from studio.cli.main import main
from studio.config import ProjectConfig
from studio.engine.models.catalog import CATALOG


@pytest.fixture(scope="session")
def weights_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A weights file that fits each pre-trained architecture. Every tensor is one number
    broadcast to its shape, so even VGG-16's file is a few kilobytes."""
    folder = tmp_path_factory.mktemp("weights")
    files = {}
    for spec in CATALOG.values():
        if spec.has_pretrained:
            try:
                with torch.device("meta"):  # shapes only: instant even for VGG-16
                    model = torchvision.models.get_model(spec.torchvision_name, weights=None)
            except NotImplementedError:  # a builder that reads tensor values (RegNet)
                model = torchvision.models.get_model(spec.torchvision_name, weights=None)
            state = {
                k: torch.zeros((), dtype=v.dtype).expand(v.shape)
                for k, v in model.state_dict().items()
            }
            files[spec.name] = folder / f"{spec.name}.pth"
            torch.save(state, files[spec.name])
    return files


def _cli(capsys, data: Path, *args: str) -> dict:
    assert main(["train", "--data", str(data), *args, "--dry-run", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _same_as_cli(capsys, window, data: Path, *args: str) -> None:
    """The window's resolved config is byte for byte the CLI's ``config.json``, with the
    same reasons."""
    resolution = window.model.resolution
    shown = _cli(capsys, data, *args)
    cli_config = ProjectConfig.model_validate(shown["config"]).model_dump_json(indent=2)
    assert resolution.config.model_dump_json(indent=2) == cli_config, args
    assert resolution.to_json()["settings"] == shown["settings"], args


def _click_model(qtbot, picker, name: str) -> None:
    row = next(r for r in range(picker.table.rowCount()) if picker._name_at(r) == name)
    item = picker.table.item(row, 0)
    picker.table.scrollToItem(item)
    qtbot.mouseClick(
        picker.table.viewport(),
        Qt.MouseButton.LeftButton,
        pos=picker.table.visualItemRect(item).center(),
    )
    assert picker.model.config.model.name == name


def _choose(combo: QComboBox, value: str) -> None:
    combo.setCurrentIndex(combo.findData(value))
    combo.activated.emit(combo.currentIndex())


def test_every_model_and_weights_choice_resolves_as_the_cli_does(
    qtbot, window, dataset: Path, capsys, weights_files: dict[str, Path]
):
    drop_folders(qtbot, window, [dataset])
    with qtbot.waitSignal(window.model.machine_detected, timeout=60_000):
        window.model.detect_machine()
    picker = window.picker
    assert window.model.config.model.name == "small_cnn"
    _same_as_cli(capsys, window, dataset)  # the defaults, nothing chosen
    for name, spec in CATALOG.items():
        if not spec.has_pretrained:
            continue
        _click_model(qtbot, picker, name)  # pre-trained weights, derived
        assert window.model.config.model.weights == "imagenet"
        _same_as_cli(capsys, window, dataset, "--model", name)
        _choose(picker.weights, "none")  # from scratch
        assert window.model.config.model.strategy == "scratch"
        _same_as_cli(capsys, window, dataset, "--model", name, "--weights", "none")
        file = str(weights_files[name])
        picker.load_weights_file(Path(file))  # checked off the GUI thread, then used
        qtbot.waitUntil(lambda f=file: window.model.config.model.weights == f, timeout=60_000)
        _same_as_cli(capsys, window, dataset, "--model", name, "--weights", file)
    _click_model(qtbot, picker, "small_cnn")  # a weights file belongs to its architecture
    _same_as_cli(capsys, window, dataset, "--model", "small_cnn")


def test_the_window_shows_what_it_derived_and_why(qtbot, window):
    picker, model = window.picker, window.model
    _click_model(qtbot, picker, "efficientnet_b2")  # before the catalogue has loaded
    assert model.config.train.image_size == 288
    label = window.findChild(QLabel, "resolvedSettings")
    settle(qtbot)
    assert "Image size 288: the pre-trained weights were made at 288 px" in label.text()
    assert "Fine-tuning full" in label.text() and "Weights imagenet" in label.text()
    assert "made at 288 px" in window.findChild(QSpinBox, "imageSizeInput").toolTip()
    auto = window.findChild(QToolButton, "imageSizeAutoButton")
    assert auto.isHidden()
    window.findChild(QSpinBox, "imageSizeInput").setValue(160)  # the user's value wins...
    settle(qtbot)
    assert model.config.train.image_size == 160 and not auto.isHidden()
    assert "Image size" not in label.text()
    _click_model(qtbot, picker, "resnet18")
    assert model.config.train.image_size == 160  # ...across a change of model
    window.findChild(QPushButton, "resolvedDetailsButton").click()
    table = window.findChild(QTableWidget, "resolvedTable")
    rows = {table.item(r, 0).text(): r for r in range(table.rowCount())}
    assert table.item(rows["train.image_size"], 2).text() == "you"
    assert table.item(rows["model.weights"], 3).text().startswith("ResNet-18 has ImageNet")
    table.cellWidget(rows["train.image_size"], 3).click()  # let Studio choose again
    settle(qtbot)
    assert model.config.train.image_size == 224 and auto.isHidden()
    assert table.item(rows["train.image_size"], 2).text() == "Studio"


def test_the_latest_choice_wins_over_an_older_one_it_contradicts(qtbot, window):
    picker, model = window.picker, window.model
    _click_model(qtbot, picker, "resnet18")
    _choose(picker.strategy, "linear")
    _choose(picker.weights, "none")  # linear needs weights: the older choice gives way
    assert (model.config.model.weights, model.config.model.strategy) == ("none", "scratch")
    _choose(picker.strategy, "partial")  # and back: weights are derived again
    assert (model.config.model.weights, model.config.model.strategy) == ("imagenet", "partial")
    model.update("model", weights="imagenet")
    _click_model(qtbot, picker, "small_cnn")  # has no pre-trained weights
    assert (model.config.model.weights, model.config.model.strategy) == ("none", "scratch")
    assert model.config.user_set == ["model.name"]


def test_a_project_edited_by_hand_keeps_its_values_in_the_window_and_the_cli(
    qtbot, window, dataset: Path, tmp_path: Path, capsys
):
    from studio.config.io import PROJECT_FILE

    folder = tmp_path / "project"
    folder.mkdir()
    (folder / PROJECT_FILE).write_text(
        f'schema_version = 2\n[data]\nsources = ["{dataset}"]\n'
        '[model]\nname = "resnet18"\n[train]\nimage_size = 96\nnum_workers = 0\n'
    )
    with qtbot.waitSignal(window.model.machine_detected, timeout=60_000):
        window.model.detect_machine()
    with qtbot.waitSignal(window.model.facts_changed, timeout=60_000):  # the data is read
        assert window.project.open(folder)
    config = window.model.resolution.config
    assert (config.model.name, config.model.weights, config.train.image_size) == (
        "resnet18",
        "imagenet",  # derived: the file does not say
        96,  # the file's values are the user's
    )
    assert config.user_set == ["model.name", "train.image_size", "train.num_workers"]
    assert main(["train", str(folder), "--dry-run", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    cli_config = ProjectConfig.model_validate(shown["config"]).model_dump_json(indent=2)
    assert config.model_dump_json(indent=2) == cli_config
