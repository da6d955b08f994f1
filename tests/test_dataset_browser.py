"""The dataset dock on the real window: health report, thumbnail grid, filters and edits."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import drop_folders
from nasty import EXPECTED_COUNTS, EXPECTED_PROBLEMS, make_nasty, snapshot

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
