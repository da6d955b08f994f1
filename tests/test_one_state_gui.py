"""One state, no ghosts; history without a project; failures that say what to do; long
tasks with progress, ETA and Cancel — all through the real window."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from conftest import TRAIN_TIMEOUT, drop_folders, make_dataset, set_knobs, settle
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QLabel, QPushButton, QTableWidget

from studio.config import ProjectConfig
from studio.config.io import load_project, save_project
from studio.engine.events import OverfittingDetected
from studio.engine.runs import files
from studio.engine.runs.store import RunStore
from studio.qt.new_project_dialog import NewProjectDialog, problem
from studio.qt.task_progress import describe
from studio.qt.tasks import Task


def train(qtbot, window) -> None:
    set_knobs(window, epochs=1, image_size=16, batch_size=12)
    window.model.update("train", num_workers=0)
    with qtbot.waitSignal(window.controller.run_finished, timeout=TRAIN_TIMEOUT):
        window.start_training()

    settle(qtbot)  # the window shows the run's end


def coach_says(window, signal: str = "val_loss_rising") -> None:
    window.controller.coach_spoke.emit(
        OverfittingDetected(epoch=3, signal=signal, detail="validation loss rising", began=2)
    )


def assert_nothing_shown(window) -> None:
    """Every panel empty: no curves, advice, result, health count, preview, Grad-CAM,
    results or label issues of what was there before."""
    plots = window.plots
    assert all(len(s) == 0 for s in plots.series.values()) and plots.ghosts == []
    assert window.banner.isHidden() and not window.banner.active
    assert window.result_label.text() == "" and window.progress_label.text() == "Ready"
    results = window.results
    assert results.run_dir is None and results.result is None
    assert results.title.text().startswith("No run yet")
    assert results.gallery.count() == 0 and results.metrics.rowCount() == 0
    assert results.cam.pixmap().isNull() and "Grad-CAM" in results.cam.text()
    assert window.label_issues.report is None and window.label_issues.list.count() == 0


def test_a_run_without_a_project_is_listed_and_new_project_keeps_data_and_takes_it(
    qtbot, window, dataset: Path, tmp_path: Path
):
    drop_folders(qtbot, window, [dataset])
    train(qtbot, window)
    table = window.findChild(QTableWidget, "runsTable")
    assert table.rowCount() == 1  # recorded though no project is open
    runs = window.project.runs
    assert runs.hint.isVisibleTo(runs) and "without a project" in runs.hint.text()
    assert window.last_run_dir.parent == files.runs_root()
    coach_says(window)
    assert not window.banner.isHidden() and window.result_label.text()
    epochs = window.model.config.train.epochs

    folder = tmp_path / "projects" / "pets"
    assert window.project.new(folder, move_runs=True)
    assert window.model.config.data.sources == [dataset] and len(window.model.index) == 36
    assert window.model.config.train.epochs == epochs  # settings kept too
    assert load_project(folder).config.data.sources == [dataset]
    assert_nothing_shown(window)  # the panels are the new project's: no run yet
    assert table.rowCount() == 1 and not runs.hint.isVisibleTo(runs)
    (record,) = runs.records.values()
    assert Path(record.run_dir).parent == folder / "runs"
    assert (Path(record.run_dir) / files.BEST).is_file()
    with RunStore(files.runs_root()) as loose:
        assert loose.runs() == []


def test_open_another_project_and_clear_data_leave_no_ghosts(
    qtbot, window, dataset: Path, tmp_path: Path
):
    first, second = tmp_path / "first", tmp_path / "second"
    other = make_dataset(tmp_path / "other", per_class=4, classes={"x": (0, 0, 0), "y": (9, 9, 9)})
    config = ProjectConfig()
    config.data.sources = [other]
    save_project(second, config)
    assert window.project.new(first)
    drop_folders(qtbot, window, [dataset])
    train(qtbot, window)
    coach_says(window)
    assert window.results.run_dir is not None and len(window.plots.series[("loss", "val")]) == 1
    health = window.tabs.indexOf(window.browser.report)
    window.tabs.setTabText(health, "Data health (7)")  # as an old check's count reads

    with qtbot.waitSignal(window.model.dataset_changed, timeout=10_000):
        assert window.project.open(second)
    assert_nothing_shown(window)
    assert window.tabs.tabText(health) in ("Data health", "Data health ✓")  # the old count went
    assert window.browser.tree.topLevelItemCount() == 2
    assert window.augment.image_path.is_relative_to(other)

    with qtbot.waitSignal(window.model.dataset_changed, timeout=10_000):
        window.findChild(QPushButton, "clearDataButton").click()
    assert_nothing_shown(window)
    assert window.augment.image_path is None
    assert all(tile.pixmap().isNull() for tile in window.augment.tiles)
    assert window.browser.tree.topLevelItemCount() == 0


def test_a_remedy_after_switching_project_changes_only_the_new_one(qtbot, window, tmp_path: Path):
    first, second = tmp_path / "first", tmp_path / "second"
    save_project(second, ProjectConfig())
    assert window.project.new(first)
    coach_says(window)
    assert window.banner.buttons["dropout"].isVisibleTo(window.banner)
    with qtbot.waitSignal(window.model.dataset_changed, timeout=10_000):
        assert window.project.open(second)
    assert window.banner.isHidden()  # the first project's advice went with it
    coach_says(window)  # the second project's own run
    window.project._timer.setInterval(0)
    with qtbot.waitSignal(window.project.saved, timeout=5_000):
        window.banner.buttons["dropout"].click()
    assert load_project(second).config.model.dropout > ProjectConfig().model.dropout
    assert load_project(first).config.model.dropout == ProjectConfig().model.dropout


def test_previous_runs_are_drawn_only_on_purpose_and_named(qtbot, window, dataset: Path):
    drop_folders(qtbot, window, [dataset])
    train(qtbot, window)
    first = window.last_run_dir.name
    train(qtbot, window)
    plots = window.plots
    toggle = plots.compare
    assert toggle.isEnabled() and not toggle.isChecked()
    assert plots.ghost_labels() == [] and not any(
        item.isVisible() for _name, items in plots.ghosts for item in items.values()
    )
    toggle.setChecked(True)
    assert plots.ghost_labels() == [f"{first} (validation)"]
    legend = plots.plots["loss"].getPlotItem().legend
    assert f"{first} (validation)" in [label.text for _sample, label in legend.items]
    with qtbot.waitSignal(window.model.dataset_changed, timeout=10_000):
        window.model.clear_sources()
    assert plots.ghosts == [] and not toggle.isEnabled()


def test_an_empty_or_missing_folder_says_what_to_do_and_saves_nothing(
    qtbot, window, dataset: Path, tmp_path: Path
):
    project = tmp_path / "project"
    assert window.project.new(project)
    drop_folders(qtbot, window, [dataset])
    window.project.save()
    empty = tmp_path / "empty"
    (empty / "nothing here").mkdir(parents=True)
    with qtbot.waitSignal(window.model.sources_rejected, timeout=10_000) as rejected:
        window.add_folders([empty])
    expected = f"No images found in {empty} — pick a folder of class folders."
    assert rejected.args == [expected]
    assert window.statusBar().currentMessage() == expected
    assert window.message.isVisibleTo(window) and window.message.text() == expected
    assert "Scanning" not in window.findChild(QLabel, "datasetSummary").text()
    qtbot.waitUntil(  # no "Scanning…" left behind
        lambda: all(t.title != "Scanning folders" for t in window.task_progress.running),
        timeout=5_000,
    )
    assert window.model.sources == [dataset] and len(window.model.index) == 36
    assert not window.project.dirty
    assert load_project(project).config.data.sources == [dataset]

    missing = tmp_path / "gone"
    with qtbot.waitSignal(window.model.sources_rejected, timeout=10_000) as rejected:
        window.add_folders([missing])
    assert rejected.args[0].startswith(f"Folder not found: {missing}")
    assert "pick a folder of class folders" in window.message.text()
    assert window.model.sources == [dataset]


def test_a_scan_shows_progress_to_100_and_a_cancelled_one_changes_nothing(
    qtbot, window, dataset: Path, tmp_path: Path, monkeypatch
):
    started: list[Task] = []
    window.model.tasks.task_started.connect(started.append)
    drop_folders(qtbot, window, [dataset])
    scan = next(t for t in started if t.title == "Scanning folders")
    qtbot.waitUntil(lambda: scan.finished, timeout=5_000)
    assert scan.fraction == 1.0 and scan.total == 3  # class folders read

    import studio.engine.data.index as index_module

    walk, entered, release = index_module._walk_images, threading.Event(), threading.Event()

    def slow_walk(*args):
        entered.set()
        release.wait(10)
        return walk(*args)

    monkeypatch.setattr(index_module, "_walk_images", slow_walk)
    window.add_folders([make_dataset(tmp_path / "more", per_class=2)])
    cancelled = started[-1]
    qtbot.waitUntil(entered.is_set, timeout=10_000)
    bar = window.task_progress
    assert bar.isVisibleTo(window) and bar.label.text().startswith("Scanning folders…")
    with qtbot.waitSignal(window.model.sources_rejected, timeout=10_000) as rejected:
        qtbot.mouseClick(bar.cancel_button, Qt.MouseButton.LeftButton)
        release.set()
    assert rejected.args == ["Scan cancelled: the dataset is as it was."]
    assert window.model.sources == [dataset] and len(window.model.index) == 36
    assert window.browser.tree.topLevelItemCount() == 3
    qtbot.waitUntil(lambda: cancelled.finished, timeout=5_000)
    assert cancelled.cancelled and bar.current is not cancelled


def test_progress_reads_percent_and_time_left(qtbot):
    task = Task("Checking data health", stop=lambda: None)
    task.started_at -= 8.0  # 8 s for the first 40 %
    task._progressed(40, 100, "")
    assert describe(task) == "Checking data health… 40 % · about 12 s left"
    task._progressed(1, 3, "fold 1 of 3")
    assert describe(task).startswith("Checking data health (fold 1 of 3)… 33 %")


@pytest.mark.parametrize(
    ("name", "why"),
    [("", "Give the project a name."), ("a/b", "A name cannot hold"), ("ok", "")],
)
def test_new_project_dialog_asks_a_name_and_a_location(qtbot, tmp_path, name, why):
    dialog = NewProjectDialog(None, tmp_path, loose_runs=2)
    qtbot.addWidget(dialog)
    dialog.name.setText(name)
    assert problem(name, str(tmp_path)).startswith(why)
    create = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert create.isEnabled() == (not why)
    assert dialog.folder() == tmp_path / name.strip()
    assert dialog.move_runs.isChecked() and "2 runs" in dialog.move_runs.text()
