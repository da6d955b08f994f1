"""The hyperparameter panel, the learning-rate finder, pause and resume, in the real window."""

from __future__ import annotations

from pathlib import Path

from conftest import TRAIN_TIMEOUT, drop_folders, set_knobs, settle
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QPushButton, QWidget

from studio.config import TrainConfig


def choose(combo: QComboBox, value: str) -> None:
    combo.setCurrentIndex(combo.findData(value))
    combo.activated.emit(combo.currentIndex())


def test_every_knob_is_generated_with_help_and_writes_the_config(qtbot, window):
    panel = window.hyper
    for name in TrainConfig.model_fields:
        if name in ("early_stopping_patience",):
            continue
        assert name in panel.inputs, name
        assert panel.inputs[name].toolTip(), name
    choose(window.findChild(QComboBox, "optimizerInput"), "sgd")
    choose(window.findChild(QComboBox, "scheduleInput"), "onecycle")
    window.findChild(QCheckBox, "earlyStoppingInput").setChecked(True)
    window.findChild(QDoubleSpinBox, "labelSmoothingInput").setValue(0.1)
    train = window.model.config.train
    assert (train.optimizer, train.schedule, train.early_stopping, train.label_smoothing) == (
        "sgd",
        "onecycle",
        True,
        0.1,
    )
    settle(qtbot)
    assert not panel.inputs["warmup_epochs"].isEnabled()  # only for cosine
    window.model.update("train", optimizer="adam", weight_decay=0.05)  # e.g. a loaded project
    settle(qtbot)
    assert window.findChild(QComboBox, "optimizerInput").currentData() == "adam"
    assert window.findChild(QDoubleSpinBox, "weightDecayInput").value() == 0.05


def test_presets_and_reset(qtbot, window):
    panel = window.hyper
    panel.apply_preset("Best accuracy")
    train = window.model.config.train
    assert train.epochs == 40 and train.early_stopping and train.label_smoothing == 0.1
    window.model.update("train", image_size=96)
    panel.findChild(QPushButton, "resetSettingsButton").click()
    train = window.model.config.train
    assert train.epochs == TrainConfig().epochs and not train.early_stopping
    assert train.image_size == 96  # follows the data and the model, not the defaults


def test_learning_rate_finder_suggests_and_applies(qtbot, window, dataset: Path):
    drop_folders(qtbot, window, [dataset])
    set_knobs(window, epochs=1)
    with qtbot.waitSignal(window.hyper.lr_found, timeout=TRAIN_TIMEOUT) as blocker:
        window.findChild(QPushButton, "findLrButton").click()
    suggestion = blocker.args[0]
    assert 1e-6 <= suggestion <= 1.0
    assert window.findChild(QWidget, "lrFinderPlot") is not None
    window.findChild(QPushButton, "applyLrButton").click()
    assert window.model.config.train.learning_rate == float(f"{suggestion:.2g}")


def test_pause_continue_and_resume_a_stopped_run(qtbot, window, dataset: Path):
    drop_folders(qtbot, window, [dataset])
    set_knobs(window, epochs=3)
    with qtbot.waitSignal(window.controller.batches_ended, timeout=TRAIN_TIMEOUT):
        window.start_training()
    pause = window.findChild(QPushButton, "pauseButton")
    qtbot.mouseClick(pause, Qt.MouseButton.LeftButton)
    assert window.controller.paused and "Paused" in window.progress_label.text()
    assert not window.hyper.isEnabled()  # knobs are refused while a run uses them
    qtbot.mouseClick(pause, Qt.MouseButton.LeftButton)
    assert not window.controller.paused
    with qtbot.waitSignal(window.controller.epoch_ended, timeout=TRAIN_TIMEOUT):
        pass
    with qtbot.waitSignal(window.controller.run_finished, timeout=TRAIN_TIMEOUT) as blocker:
        window.findChild(QPushButton, "stopButton").click()
    settle(qtbot)  # the window shows the run's end
    assert blocker.args[0].status == "stopped"
    assert window.resume_action.isEnabled()
    with qtbot.waitSignal(window.controller.run_finished, timeout=TRAIN_TIMEOUT) as blocker:
        window.resume_action.trigger()
    settle(qtbot)  # the window shows the run's end
    assert blocker.args[0].status == "finished"
    assert len(window.plots.series[("loss", "val")]) == 3
