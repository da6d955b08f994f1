"""The plots and the overfitting coach, end to end: engine, CLI and the real window."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from conftest import TRAIN_TIMEOUT, close_window, drop_folders, open_window, set_knobs, settle
from PySide6.QtWidgets import QPushButton, QSpinBox
from test_cli import studio

from studio.qt.panels.coach_banner import OVERFIT


def coach_events(run: Path) -> list[dict]:
    lines = (run / "events.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["event"] == "overfitting_detected"]


def test_cli_flags_overfitting_on_noise_and_not_on_clean_data(
    noise_dataset: Path, dataset: Path, tmp_path: Path
):
    common = [
        "--model",
        "small_cnn",
        "--augment",
        "none",
        "--batch-size",
        "8",
        "--lr",
        "0.003",
        "--quiet",
    ]
    done = studio(
        "train",
        "--data",
        str(noise_dataset),
        "--epochs",
        "8",
        "--image-size",
        "16",
        *common,
        "--out",
        str(tmp_path / "noisy"),
    )
    assert done.returncode == 0, done.stderr
    found = coach_events(tmp_path / "noisy")
    assert found, "a model memorising noise must be flagged"
    assert {"epoch", "signal", "detail", "began"} <= set(found[0])
    assert "memoris" in found[0]["detail"]
    done = studio(
        "train",
        "--data",
        str(dataset),
        "--epochs",
        "8",
        "--image-size",
        "32",
        *common,
        "--out",
        str(tmp_path / "clean"),
    )
    assert done.returncode == 0, done.stderr
    assert coach_events(tmp_path / "clean") == []


def test_banner_explains_overfitting_and_remedies_change_the_next_run(
    qtbot,
    window,
    noise_dataset: Path,
    tmp_path: Path,
):
    assert window.project.new(tmp_path / "project")
    drop_folders(qtbot, window, [noise_dataset])
    window.model.update("augment", preset="none")
    set_knobs(window, epochs=8, image_size=16)
    window.model.update("train", learning_rate=0.003)
    banner = window.banner
    window.findChild(QPushButton, "trainButton").click()
    qtbot.waitUntil(lambda: bool(set(banner.active) & OVERFIT), timeout=TRAIN_TIMEOUT)
    assert not banner.isHidden()  # the run may already have moved on to the Results tab
    said = banner.title.text() + banner.detail.text()
    assert "Overfitting" in said and "memoris" in said
    assert any(region.isVisible() for region in window.plots.regions.values())
    qtbot.waitUntil(lambda: not window.training, timeout=TRAIN_TIMEOUT)
    settle(qtbot)  # the Results tab opens in the next pass
    verdict = window.results.verdict
    assert verdict.text().startswith("Coach: Overfitting from epoch")  # on the tab now shown
    assert window.tabs.currentWidget() is window.results
    banner.findChild(QPushButton, "remedy_early_stopping").click()
    assert window.model.config.train.early_stopping is True
    assert "next run" in banner.outcome.text()
    before = window.model.config.model.dropout
    banner.findChild(QPushButton, "remedy_dropout").click()
    assert window.model.config.model.dropout > before

    other = open_window(qtbot)  # the project reopened: the Results tab still has the verdict
    try:
        with qtbot.waitSignal(other.results.evaluated, timeout=TRAIN_TIMEOUT):
            assert other.project.open(tmp_path / "project")
        assert other.results.verdict.text() == verdict.text()
        assert other.results.verdict.isVisibleTo(other.results)
    finally:
        close_window(qtbot, other)


def test_clean_run_plots_and_best_epoch_marker(qtbot, window, dataset: Path, tmp_path):
    drop_folders(qtbot, window, [dataset])
    set_knobs(window, epochs=3)
    epochs = []
    window.controller.epoch_ended.connect(epochs.append)
    with qtbot.waitSignal(window.controller.run_finished, timeout=TRAIN_TIMEOUT) as blocker:
        window.start_training()
    settle(qtbot)  # the window shows the run's end
    finished = blocker.args[0]
    assert not window.banner.isVisible()
    plots = window.plots
    assert plots.series[("loss", "val")].y == [e.val_loss for e in epochs]
    assert plots.series[("accuracy", "train")].y == [100 * e.train_acc for e in epochs]
    assert plots.best_epoch == finished.best_epoch
    for kind in ("loss", "accuracy"):
        assert plots.best_lines[kind].value() == finished.best_epoch
        xs, ys = plots.best_markers[kind].getData()
        assert list(xs) == [finished.best_epoch]
        assert list(ys) == [plots.series[(kind, "val")].y[finished.best_epoch - 1]]
    assert plots.save_png(tmp_path / "plots.png") and (tmp_path / "plots.png").stat().st_size
    plots.save_csv(tmp_path / "metrics.csv")
    rows = list(csv.DictReader((tmp_path / "metrics.csv").read_text().splitlines()))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert float(rows[0]["val_acc"]) == epochs[0].val_acc


def test_earlier_run_stays_as_a_faint_ghost(qtbot, window, dataset: Path):
    drop_folders(qtbot, window, [dataset])
    set_knobs(window, epochs=1)
    for _ in range(2):
        with qtbot.waitSignal(window.controller.run_finished, timeout=TRAIN_TIMEOUT):
            window.start_training()
        settle(qtbot)  # the window shows the run's end
    assert len(window.plots.ghosts) == 1
    assert window.findChild(QSpinBox, "epochsInput").value() == 1


def test_stronger_augmentation_remedy_climbs_the_presets(qtbot, window):
    banner = window.banner
    assert window.model.config.augment.preset == "light"
    banner.apply("augment")
    assert window.model.config.augment.preset == "medium"
    assert window.model.config.augment.rotate.enabled  # the preset's steps, not just its name
    banner.apply("augment")
    assert window.model.config.augment.preset == "heavy"
    banner.apply("augment")
    assert "strongest" in banner.outcome.text()


def test_fewer_trainable_layers_remedy_steps_towards_a_linear_probe(qtbot, window):
    window.model.update("model", name="resnet18", weights="imagenet", strategy="full")
    banner = window.banner
    assert banner._can_freeze()
    banner.apply("freeze")
    assert (window.model.config.model.strategy, window.model.config.model.unfreeze) == (
        "partial",
        2,
    )
    banner.apply("freeze")
    assert window.model.config.model.unfreeze == 1
    banner.apply("freeze")
    assert window.model.config.model.strategy == "linear" and "linear probe" in (
        banner.outcome.text()
    )


def test_split_shares_and_picked_image_reach_the_config_and_preview(qtbot, window, dataset):
    from PySide6.QtWidgets import QDoubleSpinBox

    drop_folders(qtbot, window, [dataset])
    window.findChild(QDoubleSpinBox, "testFractionInput").setValue(0.1)
    window.findChild(QDoubleSpinBox, "valFractionInput").setValue(0.3)
    assert (window.model.config.data.val_fraction, window.model.config.data.test_fraction) == (
        0.3,
        0.1,
    )
    from PySide6.QtCore import Qt

    grid = window.browser.grid
    window.tabs.setCurrentWidget(window.browser.images_page)
    qtbot.waitUntil(lambda: grid.model().rowCount() > 5, timeout=10_000)
    cell = grid.model().index(5, 0)
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=grid.visualRect(cell).center())
    assert window.augment.image_path is not None
    assert window.augment.image_path.name == cell.data()


def test_withdrawn_alarm_leaves_the_banner_and_the_shading(qtbot, window):
    from studio.engine.events import OverfittingCleared, OverfittingDetected, TrainingWarning

    banner, plots = window.banner, window.plots
    plots.build()
    banner.reset()
    window._coach_spoke(TrainingWarning(epoch=1, signal="small_validation", detail="few", began=1))
    window._coach_spoke(OverfittingDetected(epoch=6, signal="accuracy_gap", detail="gap", began=4))
    assert "2 things need attention" in banner.title.text()
    assert plots.divergence == (4, 6)
    window._coach_spoke(OverfittingCleared(epoch=8, signal="accuracy_gap", detail="new best"))
    assert set(banner.active) == {"small_validation"} and plots.divergence is None
    assert "new best" in banner.outcome.text()


def test_stronger_augmentation_for_digits_never_turns_flips_on(qtbot, window, tmp_path):
    from conftest import make_dataset

    digits = make_dataset(
        tmp_path / "digits", classes={"0": (20, 20, 20), "1": (120, 120, 120), "2": (230, 230, 230)}
    )
    drop_folders(qtbot, window, [digits])
    window.model.update("augment", horizontal_flip={"enabled": False, "p": 0.5})
    for _ in range(2):
        window.banner.apply("augment")
        assert not window.model.config.augment.horizontal_flip.enabled
    assert "horizontal flip" in window.banner.outcome.text()
