"""Label issues, the honest comparison, learning curves and the sealed test set, driven
through the real window."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from conftest import TRAIN_TIMEOUT, drop_folders, make_dataset, set_knobs
from PySide6.QtWidgets import QDoubleSpinBox, QLabel, QListWidget, QPushButton

from studio.config.io import load_project
from studio.qt import MainWindow
from studio.qt.panels.label_issues import PATH_ROLE


def mislabelled(root: Path) -> tuple[Path, list[Path]]:
    """The 3-colour dataset with two cats copied into the dogs folder."""
    data = make_dataset(root)
    wrong = []
    for name in ("cats_10.png", "cats_11.png"):
        target = data / "dogs" / f"wrong_{name}"
        shutil.move(data / "cats" / name, target)
        wrong.append(target)
    return data, wrong


def digests(root: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*.png")}


def train(qtbot, window: MainWindow) -> Path:
    with qtbot.waitSignal(window.results.evaluated, timeout=TRAIN_TIMEOUT):
        window.findChild(QPushButton, "trainButton").click()
    return window.last_run_dir


def test_label_issues_tab_decisions_are_kept_in_the_project(qtbot, window, tmp_path: Path):
    data, wrong = mislabelled(tmp_path / "data")
    before = digests(data)
    project = tmp_path / "project"
    assert window.project.new(project)
    drop_folders(qtbot, window, [data])
    panel = window.label_issues
    window.tabs.setCurrentWidget(panel)
    with qtbot.waitSignal(panel.found, timeout=TRAIN_TIMEOUT) as found:
        window.findChild(QPushButton, "findLabelIssuesButton").click()
    report = found.args[0]
    assert "look mislabelled" in panel.status.text()
    listed = panel.findChild(QListWidget, "labelIssueList")
    assert listed.count() == len(report.flagged) > 0
    top = {im.path for im in report.images[:4]}
    assert set(wrong) <= top  # the two cats in the dogs folder rank at the top
    with qtbot.waitSignal(panel.thumbnails_ready, timeout=10_000):
        panel.show_all.setChecked(True)
    assert listed.count() == 36 and not listed.item(0).icon().isNull()

    panel.select([str(wrong[0])])
    window.findChild(QPushButton, "relabelButton").click()  # to the suggested class
    assert window.model.config.data.relabeled_files == {wrong[0]: "cats"}
    assert "relabelled → cats" in listed.item(_row(listed, wrong[0])).text()
    panel.select([str(wrong[1])])
    window.findChild(QPushButton, "excludeIssueButton").click()
    kept = next(im.path for im in report.images if im.path not in wrong)
    panel.select([str(kept)])
    window.findChild(QPushButton, "keepIssueButton").click()
    assert window.model.config.data.kept_files == [kept]
    window.findChild(QPushButton, "undoLabelDecisionButton").click()  # the keep is undone
    assert window.model.config.data.kept_files == []
    assert window.model.config.data.excluded_files == [wrong[1]]
    assert window.project.save()

    saved = load_project(project).config.data
    assert saved.relabeled_files == {wrong[0]: "cats"} and saved.excluded_files == [wrong[1]]
    assert digests(data) == before  # no file moved, renamed or rewritten

    panel.find(folds=3)
    assert panel.running
    with qtbot.waitSignal(panel.failed, timeout=TRAIN_TIMEOUT) as failed:
        window.findChild(QPushButton, "cancelLabelIssuesButton").click()
    assert failed.args[0] == "Cancelled." and not panel.running


def _row(listed: QListWidget, path: Path) -> int:
    return next(r for r in range(listed.count()) if listed.item(r).data(PATH_ROLE) == str(path))


def test_sealed_test_set_compare_and_learning_curves(qtbot, window, tmp_path: Path):
    data = make_dataset(tmp_path / "data", per_class=16)
    project = tmp_path / "project"
    assert window.project.new(project)
    drop_folders(qtbot, window, [data])
    set_knobs(window, epochs=1, image_size=16)
    window.model.update("data", test_fraction=0.25)
    first = train(qtbot, window)
    results = window.results
    seal = results.findChild(QLabel, "testSealLabel")
    assert seal.text().startswith("Test set sealed")

    with qtbot.waitSignal(results.learning.computed, timeout=TRAIN_TIMEOUT) as computed:
        results.findChild(QPushButton, "learningCurveButton").click()
    curve = computed.args[0]
    table = results.learning.table
    assert table.rowCount() == 1 + 3 and table.columnCount() == 5
    assert set(results.learning.verdicts()) == {"birds", "cats", "dogs"}
    assert curve.summary() in results.learning.summary.text()

    results.confirm_unseal = lambda: True  # the question a user answers with Yes
    with qtbot.waitSignal(results.test_evaluated, timeout=30_000):
        results.findChild(QPushButton, "evaluateTestButton").click()
    assert "unsealed once" in seal.text()
    warning = results.findChild(QLabel, "testSealWarning")
    assert warning.isHidden()
    window.findChild(QDoubleSpinBox, "learningRateInput").setValue(0.003)  # after the peek
    assert not warning.isHidden() and "train.learning_rate" in warning.text()
    second = train(qtbot, window)
    assert "unsealed once" in seal.text() and not warning.isHidden()
    assert window.project.save()

    other = MainWindow()  # reopening the project: the count and the warning are still there
    qtbot.addWidget(other)
    other.show()
    try:
        with qtbot.waitSignal(other.model.dataset_changed, timeout=10_000):
            assert other.project.open(project)
        with qtbot.waitSignal(other.results.evaluated, timeout=30_000):
            other.results.show_run(second)
        assert "unsealed once" in other.results.findChild(QLabel, "testSealLabel").text()
        assert not other.results.findChild(QLabel, "testSealWarning").isHidden()

        runs = other.project.runs
        runs.select_ids([r.id for r in runs.records.values()])
        with qtbot.waitSignal(runs.comparison.paired, timeout=30_000) as paired:
            other.findChild(QPushButton, "runsCompareButton").click()
        result = paired.args[0]
        label = other.findChild(QLabel, "comparePairedLabel").text()
        assert not isinstance(result, str) and result.images > 0
        assert result.text in label and {result.a, result.b} == {first.name, second.name}
    finally:
        other.close()
