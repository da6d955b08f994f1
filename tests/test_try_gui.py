"""The Try tab on the real window: a tried picture appears large with its top-3 and
Grad-CAM, right/wrong marks are tallied and kept, and the camera says why it is off."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_dataset
from PySide6.QtGui import QGuiApplication, QImage
from test_results import train_tiny
from test_results_gui import drop_on


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("try")
    data = make_dataset(root / "data")
    train_tiny(data, root / "run", epochs=1)
    return root / "run", data


def opened(qtbot, window, run: Path):
    with qtbot.waitSignal(window.results.evaluated, timeout=60_000):
        window.results.show_run(run)
    panel = window.results.try_panel
    window.tabs.setCurrentWidget(panel)
    return panel


def test_try_shows_the_picture_its_top3_and_grad_cam_and_tallies_marks(
    qtbot, window, run_dir: tuple[Path, Path]
):
    run, data = run_dir
    panel = opened(qtbot, window, run)
    assert window.tabs.tabText(window.tabs.indexOf(panel)) == "Try"
    with qtbot.waitSignal(panel.tried, timeout=30_000) as tried:
        drop_on(panel, [data / "cats" / "cats_00.png"])
    attempt = tried.args[0][0]
    assert len(attempt.top) == 3 and abs(sum(p for _, p in attempt.top) - 1) < 1e-3
    shown = panel.picture.pixmap()
    assert not shown.isNull() and shown.width() >= 300  # a 32-pixel image, shown large
    assert not panel.cam.pixmap().isNull()
    names = [name.text() for name, _ in panel.bars]
    assert names == [c for c, _ in attempt.top] and all(names)
    assert panel.bars[0][1].text() == f"{attempt.top[0][1]:.1%}"

    panel.mark("right")
    assert panel.counts() == (1, 0) and "1 right" in panel.tally.text()
    image = QImage(str(data / "dogs" / "dogs_00.png"))
    QGuiApplication.clipboard().setImage(image)
    with qtbot.waitSignal(panel.tried, timeout=30_000):
        panel.paste_button.click()
    assert panel.history.count() == 2 and panel.current.name == "pasted picture"
    panel.mark("wrong", "birds")
    assert panel.counts() == (1, 1) and "1 wrong" in panel.tally.text()
    assert "it is birds" in panel.note.text()
    marks = json.loads((run / "tries.json").read_text())["marks"]
    assert [(m["mark"], m["truth"]) for m in marks] == [("right", ""), ("wrong", "birds")]


def test_latest_request_wins_and_camera_says_why_it_is_off(
    qtbot, window, run_dir: tuple[Path, Path]
):
    run, data = run_dir
    panel = opened(qtbot, window, run)
    with qtbot.waitSignal(panel.tried, timeout=30_000) as tried:
        panel.try_paths([data / "cats"])  # a folder: every image in it
        panel.try_paths([data / "birds" / "birds_00.png"])  # waits, replacing nothing older
        panel.try_paths([data / "dogs" / "dogs_00.png"])  # the latest: replaces birds
    assert len(tried.args[0]) == 12
    qtbot.waitUntil(lambda: panel.history.count() == 13, timeout=30_000)
    assert panel.attempts[-1].name == "dogs_00.png"
    assert not panel.camera_box.isEnabled() and not panel.camera_box.isChecked()
    assert panel.camera_reason.text()  # "No camera found…" or "…needs Qt Multimedia…"


def test_the_camera_control_says_why_qt_multimedia_is_missing(monkeypatch):
    import builtins

    from studio.qt.panels.try_images import camera_devices

    real_import = builtins.__import__
    error = "libpulse.so.0: cannot open shared object file: No such file or directory"

    def without_multimedia(name, *args, **kwargs):
        if name == "PySide6.QtMultimedia":
            raise ImportError(error)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_multimedia)
    assert camera_devices() == (
        [],
        "Live camera: Qt Multimedia needs libpulse.so.0, not on this system.",
    )
    error = "No module named 'PySide6.QtMultimedia'"
    assert camera_devices()[1] == "Live camera needs Qt Multimedia: install studio[camera]."
