"""Drive the real main window as a user would: drop folders, set knobs, click Train."""

from __future__ import annotations

import time
from pathlib import Path

from conftest import TRAIN_TIMEOUT, close_window, drop_folders, open_window, set_knobs, settle
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QPushButton, QWidget

from studio.qt import MainWindow

OBJECT_NAMES = [
    "datasetBrowser",
    "augmentationPreview",
    "modelPicker",
    "hyperparameterPanel",
    "trainButton",
    "stopButton",
    "lossPlot",
    "accuracyPlot",
    "epochsInput",
    "batchSizeInput",
    "learningRateInput",
    "imageSizeInput",
    "overfittingBanner",
]


def curve_points(window: MainWindow, plot_name: str) -> dict[str, int]:
    plot = window.findChild(QWidget, plot_name)
    return {
        item.name(): len(item.getData()[0] if item.getData()[0] is not None else [])
        for item in plot.getPlotItem().listDataItems()
        if item.name()
    }


def test_stable_object_names_and_accessible_names(window):
    for name in OBJECT_NAMES:
        widget = window.findChild(QWidget, name)
        assert widget is not None, name
        assert widget.accessibleName(), name
    assert len(window.findChildren(QDockWidget)) == 4
    assert window.findChild(QWidget, "overfittingBanner").isHidden()


def test_a_folder_without_images_leaves_the_welcome_page(qtbot, window, tmp_path: Path):
    """The plots page shows while a dropped folder is scanned, in a pass after the drop;
    a scan that finds nothing brings the welcome page back, even when it ends first."""
    empty = tmp_path / "empty"
    (empty / "nothing here").mkdir(parents=True)
    with qtbot.waitSignal(window.model.sources_rejected, timeout=10_000):
        window.add_folders([empty])
    settle(qtbot)
    assert window.stack.currentWidget() is window.welcome


def test_welcome_offers_the_sample_dataset(qtbot, window):
    assert window.stack.currentWidget() is window.welcome
    with qtbot.waitSignal(window.model.dataset_changed, timeout=10_000):
        qtbot.mouseClick(
            window.findChild(QPushButton, "useSampleButton"), Qt.MouseButton.LeftButton
        )
    tree = window.browser.tree
    assert tree.topLevelItemCount() == 5
    assert [tree.topLevelItem(i).text(0) for i in range(5)] == [
        "four",
        "one",
        "three",
        "two",
        "zero",
    ]
    assert window.stack.currentWidget() is window.plots
    assert not window.model.config.augment.horizontal_flip.enabled  # digits must not be mirrored
    qtbot.waitUntil(
        lambda: (
            window.augment.tiles[-1].pixmap() is not None
            and not window.augment.tiles[-1].pixmap().isNull()
        ),
        timeout=30_000,
    )


def test_drop_set_epochs_train_and_see_the_curves(qtbot, window, dataset: Path):
    drop_folders(qtbot, window, [dataset])
    assert window.browser.tree.topLevelItemCount() == 3
    set_knobs(window, epochs=2)
    assert window.model.config.train.epochs == 2
    with qtbot.waitSignal(window.controller.run_finished, timeout=TRAIN_TIMEOUT) as blocker:
        qtbot.mouseClick(window.findChild(QPushButton, "trainButton"), Qt.MouseButton.LeftButton)
        assert window.training and not window.train_button.isEnabled()
    settle(qtbot)  # the window shows the run's end
    assert blocker.args[0].status == "finished"
    for plot in ("lossPlot", "accuracyPlot"):
        assert curve_points(window, plot) == {"Training": 2, "Validation": 2}
        batch_curve = window.plots.curves[("loss" if plot == "lossPlot" else "accuracy", "batch")]
        assert len(batch_curve.getData()[0]) >= 2
    assert "Finished" in window.result_label.text()
    assert window.train_button.isEnabled() and not window.stop_button.isEnabled()
    assert (window.last_run_dir / "events.jsonl").is_file()


def test_several_class_folders_dropped_at_once(qtbot, window, dataset: Path):
    drop_folders(qtbot, window, [dataset / "cats", dataset / "dogs"])
    tree = window.browser.tree
    assert [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())] == [
        "cats",
        "dogs",
    ]


def test_stop_takes_effect_within_two_seconds(qtbot, window, dataset: Path):
    drop_folders(qtbot, window, [dataset])
    set_knobs(window, epochs=200)
    with qtbot.waitSignal(window.controller.batches_ended, timeout=TRAIN_TIMEOUT):
        window.findChild(QPushButton, "trainButton").click()
    with qtbot.waitSignal(window.controller.run_finished, timeout=2_000) as blocker:
        started = time.perf_counter()
        window.findChild(QPushButton, "stopButton").click()
    assert time.perf_counter() - started < 2.0
    settle(qtbot)  # the window shows the run's end
    assert blocker.args[0].status == "stopped"
    assert window.progress_label.text() == "Stopped"


def test_train_without_data_explains_instead_of_failing(qtbot, window):
    window.findChild(QPushButton, "trainButton").click()
    assert not window.training
    assert window.message.isVisible() and "Add images first" in window.message.text()


def test_startup_path_loads_plots_and_names_the_device(qtbot):
    win = open_window(qtbot, defer_plots=True)
    assert not win.plots.built
    with qtbot.waitSignal(win.device_detected, timeout=60_000):
        win.finish_startup()
    assert win.plots.built
    assert win.device_label.text().startswith("Device: ")
    assert "detecting" not in win.device_label.text()
    close_window(qtbot, win)


def test_plots_keep_streaming_after_redraws(qtbot):
    """Appending after a redraw must work (pyqtgraph keeps views of the buffers)."""
    from studio.engine.events import BatchEnded
    from studio.qt.panels.plots import TrainingPlots

    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.build()
    plots.reset()
    for _ in range(5):
        plots.add_batches([BatchEnded(1, b, 10_000, 1.0, 0.5) for b in range(1, 400)])
        plots.refresh()
    assert len(plots.curves[("loss", "batch")].xData) == 5 * 399  # all kept; drawn downsampled
    plots.finish()
