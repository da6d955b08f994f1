"""The Results tab after a real training run in the window: metrics, matrix, gallery, export."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import TRAIN_TIMEOUT, drop_folders, set_knobs
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QPushButton, QTableWidget, QWidget

from studio.qt.main_window import file_urls


def drop_on(widget: QWidget, paths: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls(file_urls(paths))
    action, button, none = (
        Qt.DropAction.CopyAction,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    enter = QDragEnterEvent(QPoint(10, 10), action, mime, button, none)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(widget, QDropEvent(QPointF(10, 10), action, mime, button, none))


def test_results_tab_after_training_and_verified_export(qtbot, window, dataset: Path):
    drop_folders(qtbot, window, [dataset])
    set_knobs(window, epochs=1)
    window.model.update("data", test_fraction=0.25)
    panel = window.results
    with qtbot.waitSignal(panel.evaluated, timeout=TRAIN_TIMEOUT) as evaluated:
        window.findChild(QPushButton, "trainButton").click()
    result = evaluated.args[0]
    assert window.tabs.currentWidget() is panel
    events = [
        json.loads(x) for x in (window.last_run_dir / "events.jsonl").read_text().splitlines()
    ]
    best = events[-1]["best_epoch"]
    val_acc = next(e["val_acc"] for e in events if e.get("epoch") == best and "val_acc" in e)
    assert result["accuracy"] == val_acc  # one preprocessing, one inference loop: exactly
    assert f"Validation accuracy {val_acc:.1%}" in panel.summary.text()

    table = panel.findChild(QTableWidget, "resultsMetricsTable")
    assert table.rowCount() == 3 + 2  # three classes, macro and weighted averages
    matrix = panel.findChild(QTableWidget, "confusionMatrix")
    assert matrix.rowCount() == matrix.columnCount() == 3
    cells = [[int(matrix.item(t, p).text()) for p in range(3)] for t in range(3)]
    assert cells == result["confusion"] and sum(map(sum, cells)) == result["count"]
    panel.matrix.normalised.setChecked(True)
    assert matrix.item(0, 0).text().endswith("%")

    # a cell opens its images in the gallery; choose the fullest one
    t, p = max(((t, p) for t in range(3) for p in range(3)), key=lambda tp: cells[tp[0]][tp[1]])
    matrix.cellClicked.emit(t, p)
    assert panel.gallery.count() == cells[t][p]
    assert panel.gallery.images[0]["true"] == result["classes"][t]

    with qtbot.waitSignal(panel.cam_ready, timeout=30_000):
        panel.gallery.setCurrentRow(0)
    assert panel.cam.pixmap() is not None and not panel.cam.pixmap().isNull()

    first = panel.gallery.images[0]["path"]
    panel.mark([first], "exclude")
    assert Path(first) in window.model.config.data.excluded_files
    marks = json.loads((window.last_run_dir / "review.json").read_text())["marks"]
    assert marks == {first: "exclude"}
    assert first in panel.save_marks_csv().read_text()

    tried = panel.try_panel
    with qtbot.waitSignal(tried.tried, timeout=30_000) as predicted:
        drop_on(tried, [dataset / "cats"])  # a folder dropped on the Try tab is tried, not added
    assert len(predicted.args[0]) == 12 and tried.history.count() == 12
    assert all(len(a.top) == 3 for a in predicted.args[0])
    assert window.model.sources == [dataset]

    assert panel.test_button.isEnabled() and "0 time(s)" in panel.test_label.text()
    panel.confirm_unseal = lambda: True  # the question a user answers with Yes
    with qtbot.waitSignal(panel.test_evaluated, timeout=30_000) as tested:
        panel.test_button.click()
    assert tested.args[0]["split"] == "test" and "1 time(s)" in panel.test_label.text()
    assert "Test accuracy" in panel.summary.text()

    panel.format.setCurrentText("onnx")
    with qtbot.waitSignal(panel.exported, timeout=60_000) as exported:
        qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    report = exported.args[0]
    assert report.agreement == 1.0 and report.max_abs_diff < 1e-4
    assert (report.out / "model.onnx").is_file() and (report.out / "model_card.json").is_file()
    assert "top-1 agreement 100%" in panel.export_label.text()
