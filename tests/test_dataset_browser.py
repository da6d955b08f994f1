"""The dataset dock on the real window: health report, thumbnail grid, filters and edits."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import drop_folders
from nasty import EXPECTED_COUNTS, EXPECTED_PROBLEMS, make_nasty, snapshot
from PySide6.QtCore import Qt

from studio.qt.panels.health_report import FIX, SIZES_KIND, GroupRole, PathRole
from studio.qt.panels.thumbnail_grid import ANY_PROBLEM

REPORT_TIMEOUT = 20_000


@pytest.fixture
def nasty(tmp_path: Path) -> Path:
    return make_nasty(tmp_path / "nasty")


def dropped_and_checked(qtbot, window, folder: Path):
    browser = window.browser
    with qtbot.waitSignal(browser.check.finished, timeout=REPORT_TIMEOUT):
        drop_folders(qtbot, window, [folder])
    return browser


def test_drop_the_nasty_folder_and_see_counts_and_problems(qtbot, window, nasty: Path):
    before = snapshot(nasty)
    browser = dropped_and_checked(qtbot, window, nasty)
    assert browser.report.chart.counts == EXPECTED_COUNTS
    shown = {
        (Path(path).relative_to(nasty).as_posix(), kind)
        for path, kind in browser.report.shown_problems()
    }
    assert shown == EXPECTED_PROBLEMS
    assert "Truncated images: 1" in browser.report.status.text()
    assert [browser.tree.topLevelItem(i).text(0) for i in range(3)] == ["birds", "cats", "dogs"]
    assert not browser.report.progress_row.isVisible()
    assert snapshot(nasty) == before


def test_grid_filters_and_thumbnails(qtbot, window, nasty: Path):
    browser = dropped_and_checked(qtbot, window, nasty)
    model = browser.grid_model
    assert model.rowCount() == 22  # every indexed file, readable or not
    filters = browser.filters
    filters.choose(filters.by_problem, "truncated")
    assert filters.by_problem.currentText() == "Truncated images"
    assert model.rowCount() == 1 and model.data(model.index(0, 0)) == "truncated.jpg"
    filters.choose(filters.by_problem, None)
    assert filters.by_problem.currentText() == "All images"
    filters.choose(filters.by_class, "dogs")
    assert model.rowCount() == 10
    filters.choose(filters.by_split, "val")
    assert 0 < model.rowCount() < 10
    filters.choose(filters.by_split, None)
    window.tabs.setCurrentWidget(browser.images_page)
    qtbot.waitUntil(lambda: len(model.cache) >= 3, timeout=REPORT_TIMEOUT)
    assert len(model.cache) <= model.cache.capacity


def test_exclude_and_rename_are_kept_in_the_project(qtbot, window, dataset: Path):
    browser = dropped_and_checked(qtbot, window, dataset)
    browser.set_class_excluded("birds", True)
    browser.rename_class("dogs", "puppies")
    browser.set_images_excluded([dataset / "cats" / "cats_00.png"], True)
    data = window.model.config.data
    assert data.excluded_classes == ["birds"] and data.class_names == {"dogs": "puppies"}
    assert data.excluded_files == [dataset / "cats" / "cats_00.png"]
    assert browser.tree.topLevelItem(2).text(0) == "puppies"
    assert browser.tree.topLevelItem(0).font(0).strikeOut()
    browser.set_class_excluded("birds", False)
    assert data.excluded_classes == [] and window.model.config.data.excluded_classes == []


def test_class_names_read_as_enabled_text_after_a_run_disabled_the_dock(
    qtbot, window, dataset: Path
):
    browser = dropped_and_checked(qtbot, window, dataset)
    browser.setEnabled(False)  # as while a run trains
    browser.set_class_excluded("birds", True)  # an edit made then redraws the class list
    browser.setEnabled(True)
    birds, cats = browser.tree.topLevelItem(0), browser.tree.topLevelItem(1)
    assert cats.data(0, Qt.ItemDataRole.ForegroundRole) is None  # the palette's own text colour
    muted = birds.data(0, Qt.ItemDataRole.ForegroundRole).color()
    assert muted != browser.tree.palette().color(browser.tree.palette().ColorRole.Text)


def split_of_next_run(window):
    """The data the next run trains on: the trainer's own split of the resolved config."""
    from studio.engine.data.splits import split_dataset

    config = window.model.resolution.config
    return split_dataset(config.data, config.train.seed)


def test_health_fixes_change_the_project_and_the_next_run(qtbot, window, nasty: Path):
    browser = dropped_and_checked(qtbot, window, nasty)
    report = browser.report
    (group,) = report.find_items("near_duplicate")[:1]
    paths = group.data(0, GroupRole)
    keep = next(i for i in report.find_items("near_duplicate") if i.data(0, PathRole))
    kept = Path(keep.data(0, PathRole))
    assert report.fix_text(keep) == "Keep only this"
    qtbot.waitUntil(lambda: not keep.icon(0).isNull(), timeout=REPORT_TIMEOUT)  # a thumbnail
    report.apply_fix(keep)
    others = [p for p in paths if p != kept]
    assert set(others) <= set(window.model.config.data.excluded_files)
    assert report.fix_text(keep) == "✓ Kept only this"
    trained = split_of_next_run(window).index.paths
    assert kept in trained and not set(others) & set(trained)

    (sizes,) = report.find_items(SIZES_KIND)
    suggested = browser.last_report.sizes.suggested_size
    report.apply_fix(sizes)
    assert window.model.config.train.image_size == suggested
    assert window.model.resolution.config.train.image_size == suggested
    (imbalance,) = report.find_items("imbalance")
    window.model.update("train", class_weighting="none")  # the user's (Studio would weight)
    assert report.fix_text(imbalance) == "Turn on class weighting"
    report.problems.itemClicked.emit(imbalance, FIX)  # a click in the Fix column
    assert window.model.resolution.config.train.class_weighting == "loss"
    assert report.fix_text(imbalance).startswith("✓")

    report.undo_button.click()  # class weighting off again, then the size, then the keep
    assert window.model.config.train.class_weighting == "none"
    report.undo()
    report.undo()
    assert not set(others) & set(window.model.config.data.excluded_files)
    assert not report.undo_button.isEnabled()


def test_counts_agree_and_follow_relabels(qtbot, window, nasty: Path):
    browser = dropped_and_checked(qtbot, window, nasty)
    tree = {
        browser.tree.topLevelItem(i).text(0): int(browser.tree.topLevelItem(i).text(1))
        for i in range(browser.tree.topLevelItemCount())
    }
    chart = browser.report.chart.counts
    totals = browser.split.totals()
    used = sum(totals.values())
    assert tree == {k: v for k, v in chart.items() if k != "empty_class"}
    assert sum(tree.values()) == used == sum(chart.values()) == 18
    assert f"{used} images to train with" in browser.summary.text()
    assert f"{used} images to train with" in browser.report.status.text()
    assert len(split_of_next_run(window).index.paths) - used == 1  # the truncated file,
    # which the next run skips when it cannot decode it

    moved = nasty / "cats" / "cat_1.png"
    with qtbot.waitSignal(browser.check.split_ready, timeout=REPORT_TIMEOUT):
        window.model.update("data", relabeled_files={moved: "dogs"})  # as the label-issue tab
    assert browser.report.chart.counts["dogs"] == chart["dogs"] + 1
    assert browser.tree.topLevelItem(2).text(1) == str(tree["dogs"] + 1)
    browser.filters.choose(browser.filters.by_class, "dogs")
    model = browser.grid_model
    names = {model.data(model.index(r, 0)) for r in range(model.rowCount())}
    assert "cat_1.png" in names
    assert "class dogs (folder cats)" in model._tooltip(model.dataset.paths.index(moved))


def test_filters_keep_cell_size_and_small_images_are_scaled_up(qtbot, window, nasty: Path):
    browser = dropped_and_checked(qtbot, window, nasty)
    window.tabs.setCurrentWidget(browser.images_page)
    grid, model = browser.grid, browser.grid_model
    filters = browser.filters
    assert [filters.by_class.itemText(0), filters.by_split.itemText(0)] == [
        "All classes",
        "All splits",
    ]
    assert filters.by_problem.findText("Near-duplicate images") > 0
    before = grid.visualRect(model.index(0, 0)).size()
    filters.choose(filters.by_problem, ANY_PROBLEM)
    assert 0 < model.rowCount() < 22
    sizes = {grid.visualRect(model.index(r, 0)).size() for r in range(model.rowCount())}
    assert sizes == {before} and before.height() > 100
    qtbot.waitUntil(lambda: len(model.cache) >= model.rowCount() - 1, timeout=REPORT_TIMEOUT)
    for r in range(model.rowCount()):
        icon = model.data(model.index(r, 0), Qt.ItemDataRole.DecorationRole)
        assert icon.width() == icon.height() == model.size  # 32-48 px images, shown at 128
    filters.size.setValue(filters.size.maximum())
    assert grid.visualRect(model.index(0, 0)).height() > before.height()
    assert grid.iconSize().width() == model.size == 256


def test_long_details_wrap_whole_in_a_narrow_window(qtbot, window, nasty: Path):
    browser = dropped_and_checked(qtbot, window, nasty)
    report = browser.report
    window.resize(1280, 720)
    window.tabs.setCurrentWidget(report)
    (sizes,) = report.find_items(SIZES_KIND)
    column = report.problems.header().sectionSize(1)
    line = report.problems.fontMetrics().height()
    assert report.problems.fontMetrics().horizontalAdvance(sizes.text(1)) > column
    qtbot.waitUntil(lambda: report.problems.visualItemRect(sizes).height() >= 2 * line)
