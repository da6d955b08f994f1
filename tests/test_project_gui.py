"""Projects through the window: build one by driving the panels, save, reopen in a new window;
autosave, the unsaved mark and the close question; broken files; moved folders; the Runs tab."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import TRAIN_TIMEOUT, close_window, drop_folders, open_window, set_knobs, settle
from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox, QTableWidget

from studio.config import ProjectConfig
from studio.config.io import PROJECT_FILE, load_project, save_project
from studio.qt import MainWindow


def pick(combo, key) -> None:
    """Choose ``key`` in a combo box as a user does (``activated`` fires)."""
    row = combo.findData(key)
    combo.setCurrentIndex(row)
    combo.activated.emit(row)


def panel_state(win: MainWindow) -> dict:
    spin = {
        n: win.findChild(QSpinBox, n) or win.findChild(QDoubleSpinBox, n)
        for n in (
            "epochsInput",
            "batchSizeInput",
            "learningRateInput",
            "imageSizeInput",
            "unfreezeInput",
            "rotate_degreesInput",
        )
    }
    tree = win.browser.tree
    return {
        **{name: box.value() for name, box in spin.items()},
        "model": win.picker._name_at(win.picker.table.currentRow()),
        "strategy": win.picker.strategy.currentData(),
        "weights": win.picker.weights.currentData(),
        "preset": win.augment.preset.currentData(),
        "classes": [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())],
        "struck": [
            tree.topLevelItem(i).font(0).strikeOut() for i in range(tree.topLevelItemCount())
        ],
    }


def test_project_round_trip_through_the_gui(qtbot, window, dataset: Path, tmp_path: Path):
    drop_folders(qtbot, window, [dataset])
    set_knobs(window, epochs=3, image_size=48, batch_size=16)
    window.findChild(QDoubleSpinBox, "learningRateInput").setValue(0.0007)
    picker = window.picker
    picker.table.selectRow(
        next(r for r in range(picker.table.rowCount()) if picker._name_at(r) == "resnet18")
    )
    pick(picker.strategy, "partial")
    window.findChild(QSpinBox, "unfreezeInput").setValue(2)
    window.findChild(QSpinBox, "imageSizeInput").setValue(48)
    pick(window.augment.preset, "medium")
    window.findChild(QDoubleSpinBox, "rotate_degreesInput").setValue(33)
    window.browser.set_class_excluded("birds", True)
    window.browser.rename_class("dogs", "hounds")
    window.browser.set_images_excluded([dataset / "cats" / "cats_03.png"], True)
    settle(qtbot)
    before = panel_state(window)
    assert before["model"] == "resnet18" and before["preset"] == "custom"
    config = window.model.config.model_copy(deep=True)

    folder = tmp_path / "pets-project"
    assert window.project.save_as(folder)
    assert window.windowTitle() == "pets-project — Studio"
    assert load_project(folder).config == config

    other = open_window(qtbot)
    try:
        with qtbot.waitSignal(other.model.dataset_changed, timeout=10_000):
            assert other.project.open(folder)
        settle(qtbot)
        assert other.model.config == config
        assert panel_state(other) == before
        assert other.windowTitle() == "pets-project — Studio"
        assert other.project.recent_projects()[0] == folder
    finally:
        close_window(qtbot, other)
    third = open_window(qtbot)  # as the app starts: the last project comes back
    try:
        with qtbot.waitSignal(third.model.dataset_changed, timeout=10_000):
            assert third.project.reopen_last()
        assert third.model.config == config and third.project.folder == folder
    finally:
        close_window(qtbot, third)


def test_autosave_unsaved_mark_and_the_close_question(qtbot, window, tmp_path: Path, monkeypatch):
    project = window.project
    with qtbot.waitSignal(window.model.dataset_changed, timeout=10_000):
        assert project.new(tmp_path / "p")
    project._timer.setInterval(0)
    with qtbot.waitSignal(project.saved, timeout=5_000):
        window.findChild(QSpinBox, "epochsInput").setValue(11)
        assert window.windowTitle() == "p* — Studio"  # unsaved until the debounce fires
    assert window.windowTitle() == "p — Studio"
    assert load_project(tmp_path / "p").config.train.epochs == 11

    project.autosave_action.setChecked(False)
    window.findChild(QSpinBox, "epochsInput").setValue(12)
    assert project.dirty and window.windowTitle() == "p* — Studio"
    asked = []
    monkeypatch.setattr(project, "ask_unsaved", lambda: asked.append(1) or "cancel")
    assert not window.close() and window.isVisible() and asked == [1]
    monkeypatch.setattr(project, "ask_unsaved", lambda: "save")
    close_window(qtbot, window)
    assert load_project(tmp_path / "p").config.train.epochs == 12
    project.autosave_action.setChecked(True)


def test_a_project_that_cannot_be_saved_never_keeps_the_window_open(
    qtbot, window, tmp_path, monkeypatch
):
    """Read-only media with autosave on: closing asks once (Save As, close without saving,
    cancel) instead of failing to save on every try."""
    from studio import errors
    from studio.qt import project_actions

    project = window.project
    with qtbot.waitSignal(window.model.dataset_changed, timeout=10_000):
        assert project.new(tmp_path / "p")
    project._timer.stop()
    window.findChild(QSpinBox, "epochsInput").setValue(13)
    assert project.dirty and project.autosave

    def read_only(folder, config):
        raise errors.StudioError(f"cannot save {folder}: read-only file system")

    monkeypatch.setattr(project_actions, "save_project", read_only)
    asked: list[str] = []
    monkeypatch.setattr(project, "ask_save_failed", lambda why: asked.append(why) or "cancel")
    assert not window.close() and window.isVisible()
    assert len(asked) == 1 and "read-only file system" in asked[0]
    monkeypatch.setattr(project, "ask_save_failed", lambda why: asked.append(why) or "discard")
    close_window(qtbot, window)
    assert len(asked) == 2 and not window.isVisible()


def test_broken_project_file_shows_one_line_and_the_window_carries_on(qtbot, window, tmp_path):
    save_project(tmp_path, ProjectConfig())
    path = tmp_path / PROJECT_FILE
    path.write_text(re.sub(r"\bepochs = \d+", "epochs = -5", path.read_text()))
    assert not window.project.open(tmp_path)
    text = window.message.text()
    assert "train.epochs: must be between 1 and 1000" in text and "line" in text
    assert window.project.folder is None and window.windowTitle().startswith("Studio")
    with qtbot.waitSignal(window.model.dataset_changed, timeout=10_000):
        assert window.project.new(tmp_path / "fine")  # still usable
    assert not window.project.new(tmp_path)  # never overwrites a project with defaults
    assert "already holds a project" in window.message.text()
    assert "epochs = -5" in path.read_text()


def test_moved_image_folders_are_relocated(
    qtbot, window, dataset: Path, tmp_path: Path, monkeypatch
):
    config = ProjectConfig()
    config.data.sources = [dataset]
    save_project(tmp_path / "proj", config)
    moved = tmp_path / "archive" / "data"
    moved.parent.mkdir()
    dataset.rename(moved)
    monkeypatch.setattr(window.project, "ask_relocation", lambda missing: moved.parent)
    with qtbot.waitSignal(window.model.dataset_changed, timeout=10_000):
        assert window.project.open(tmp_path / "proj")
    assert window.model.config.data.sources == [moved]
    assert window.browser.tree.topLevelItemCount() == 3
    assert load_project(tmp_path / "proj").config.data.sources == [moved]


def train(qtbot, window) -> None:
    with qtbot.waitSignal(window.controller.run_finished, timeout=TRAIN_TIMEOUT):
        window.start_training()

    settle(qtbot)  # the window shows the run's end


def test_runs_tab_after_two_runs_compare_rename_delete_train_again(
    qtbot, window, dataset: Path, tmp_path: Path, monkeypatch
):
    folder = tmp_path / "proj"
    with qtbot.waitSignal(window.model.dataset_changed, timeout=10_000):
        assert window.project.new(folder)
    drop_folders(qtbot, window, [dataset])
    set_knobs(window, epochs=2, image_size=16, batch_size=12)
    window.model.update("train", num_workers=0)
    train(qtbot, window)
    window.findChild(QDoubleSpinBox, "learningRateInput").setValue(0.01)
    train(qtbot, window)
    runs = window.project.runs
    table = window.findChild(QTableWidget, "runsTable")
    assert table.rowCount() == 2
    records = list(runs.records.values())
    assert {r.status for r in records} == {"finished"}
    assert table.item(0, 0).text() == max(records, key=lambda r: r.id).name  # newest first
    assert all(Path(r.run_dir).parent == folder / "runs" for r in records)
    assert all(len(window.project.store.epochs(r.id)) == 2 for r in records)

    runs.select_ids([r.id for r in records])
    assert runs.buttons["compare"].isEnabled() and not runs.buttons["resume"].isEnabled()
    runs.compare()
    compare = window.findChild(QTableWidget, "compareTable")
    labels = [compare.verticalHeaderItem(r).text() for r in range(compare.rowCount())]
    assert "Learning rate" in labels and "Best validation accuracy" in labels
    assert "Epochs" not in labels  # same in both: not a difference
    row = labels.index("Learning rate")
    values = {compare.item(row, c).text() for c in range(2)}
    assert values == {"0.001", "0.01"}

    first = min(records, key=lambda r: r.id)
    runs.select_ids([first.id])
    runs.buttons["open"].click()
    assert window.tabs.currentWidget() is window.results  # not the file manager
    runs.rename(first.id, "baseline")
    assert window.project.store.get(first.id).name == "baseline"
    runs.filter.setText("baseline")
    hidden = [table.isRowHidden(r) for r in range(2)]
    assert sorted(hidden) == [False, True]
    runs.filter.clear()

    runs.select_ids([first.id])
    runs.train_again()
    assert window.model.config.train.learning_rate == 0.001

    monkeypatch.setattr(runs, "confirm_delete", lambda records: True)
    runs.select_ids([first.id])
    runs.delete()
    assert table.rowCount() == 1 and not Path(first.run_dir).exists()
