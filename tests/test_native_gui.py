"""The window feels native and teaches: dark mode everywhere, shortcuts, Tab order, the glossary
from a knob, and the first-run tour."""

from __future__ import annotations

import gc
from pathlib import Path
from types import SimpleNamespace

import pyqtgraph as pg
import pytest
from conftest import TRAIN_TIMEOUT, set_knobs, settle
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtGui import QAction, QKeySequence, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QFileDialog,
    QHeaderView,
    QLineEdit,
    QWidget,
)

from studio.qt.panels.run_compare import RunCompareView
from studio.qt.project_actions import app_settings
from studio.qt.shortcuts import SHORTCUTS
from studio.qt.theme import is_dark, theme
from studio.qt.tour import STEPS, maybe_start


@pytest.fixture
def default_theme():
    """The theme belongs to the application: back to the default after a test switches it."""
    yield
    theme().set_mode("system")


def _collected(widget: QWidget) -> None:
    """Delete a test's own pyqtgraph widget and its Python leftovers on the GUI thread, so no
    garbage collection on a worker thread destroys them later (Qt warns when that happens)."""
    widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


def _lightness(colour) -> int:
    return colour.lightness()


def test_dark_mode_switches_every_panel_and_plot(window, default_theme):
    assert not is_dark(window)
    window.findChild(QAction, "themeDarkAction").trigger()
    assert window.findChild(QAction, "themeDarkAction").isChecked()
    assert app_settings().value("theme") == "dark"
    compare = RunCompareView()  # plots made after the switch are dark too
    compare._build_plots()
    for plot in compare.plots.values():
        assert _lightness(plot.backgroundBrush().color()) < 60
    _collected(compare)
    del compare, plot
    window.hyper._plot(SimpleNamespace(lrs=[1e-4, 1e-3, 1e-2], losses=[2, 1, 3], suggestion=1e-3))
    window.results.matrix.show_result(
        {"classes": ["a", "b"], "confusion": [[3, 0], [1, 2]],
         "confusion_normalised": [[1.0, 0.0], [1 / 3, 2 / 3]]}
    )  # fmt: skip

    panels = [d.widget() for d in window.docks.values()]
    panels += [window.tabs.widget(i) for i in range(window.tabs.count())]
    for panel in panels:
        assert is_dark(panel), panel.objectName()
        base = panel.palette().color(QPalette.ColorRole.Base)
        assert _lightness(base) < 60, panel.objectName()
    plots = window.findChildren(pg.PlotWidget)
    names = {p.objectName() for p in plots}
    assert {"lossPlot", "accuracyPlot", "lrFinderPlot"} <= names
    for plot in plots:
        assert _lightness(plot.backgroundBrush().color()) < 60, plot.objectName()
        axis = plot.getPlotItem().getAxis("bottom")
        assert _lightness(axis.textPen().color()) > 180, plot.objectName()
    empty_cell = window.results.matrix.table.item(0, 1)
    assert _lightness(empty_cell.background().color()) < 60  # the heat map starts from dark

    window.findChild(QAction, "themeLightAction").trigger()
    assert not is_dark(window.docks["hyperparameterPanel"].widget())
    for plot in window.findChildren(pg.PlotWidget):
        assert _lightness(plot.backgroundBrush().color()) > 200, plot.objectName()
    assert _lightness(window.results.matrix.table.item(0, 1).background().color()) > 200


def test_follow_system_is_the_default_and_follows_a_change(window, default_theme, monkeypatch):
    assert window.findChild(QAction, "themeSystemAction").isChecked()
    current = theme()
    monkeypatch.setattr(current, "system_is_dark", lambda: True)  # the desktop turns dark
    QApplication.instance().styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert is_dark(window) and is_dark(window.docks["modelPicker"].widget())


def _press(window, keys: str) -> None:
    QTest.keySequence(window, QKeySequence(keys))


def test_each_listed_shortcut_triggers_its_action(window, qtbot, dataset, monkeypatch):
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: "")
    monkeypatch.setattr(window.project, "ask_new_project", lambda: None)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    listed = {name for name, _label, _keys in SHORTCUTS}
    assert {
        "openProjectAction", "addFolderAction", "trainAction", "pauseAction", "stopAction",
        "nextTabAction", "previousTabAction", "glossaryAction", "shortcutsAction",
    } <= listed  # fmt: skip
    for name, _label, keys in SHORTCUTS:
        if name == "quitAction":
            continue  # last, below
        action = window.findChild(QAction, name)
        with qtbot.waitSignal(action.triggered, timeout=2000):
            _press(window, keys[0])
        if name in ("glossaryAction", "shortcutsAction"):
            for dialog in (window.help.glossary, window.help.sheet):
                if dialog is not None:
                    dialog.close()
            window.activateWindow()
            qtbot.waitUntil(lambda: QApplication.activeWindow() is window)

    # the keys do what they say
    tabs = window.tabs
    start = tabs.currentIndex()
    _press(window, "Ctrl+Tab")
    assert tabs.currentIndex() == (start + 1) % tabs.count()
    _press(window, "Ctrl+Shift+Tab")
    assert tabs.currentIndex() == start
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(dataset))
    with qtbot.waitSignal(window.model.dataset_changed, timeout=10_000):
        _press(window, "Ctrl+O")
    set_knobs(window, epochs=50)
    with qtbot.waitSignal(window.controller.run_started, timeout=TRAIN_TIMEOUT):
        _press(window, "Ctrl+Return")
    _press(window, "Ctrl+P")
    assert window.pause_button.isChecked()
    _press(window, "Ctrl+P")
    assert not window.pause_button.isChecked()
    with qtbot.waitSignal(window.controller.run_finished, timeout=TRAIN_TIMEOUT) as finished:
        _press(window, "Ctrl+.")
    settle(qtbot)  # the window shows the run's end
    assert finished.args[0].status == "stopped"
    sheet = window.help.sheet.table
    rows = {sheet.item(r, 0).text(): sheet.item(r, 1).text() for r in range(sheet.rowCount())}
    assert rows["Train"].startswith(QKeySequence("Ctrl+Return").toString(
        QKeySequence.SequenceFormat.NativeText))  # fmt: skip
    with qtbot.waitSignal(window.findChild(QAction, "quitAction").triggered):
        _press(window, "Ctrl+Q")
    assert not window.isVisible()


CONTROLS = (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QAbstractItemView)


def _tab_reachable(widget: QWidget) -> bool:
    owner = widget.focusProxy() or widget
    return bool(owner.focusPolicy() & Qt.FocusPolicy.TabFocus)


def test_every_control_is_reachable_by_tab(window):
    window.stack.setCurrentWidget(window.plots)  # the training view, as with data loaded
    chain: set[QWidget] = set()
    widget = window.nextInFocusChain()
    while widget is not window and widget not in chain:
        chain.add(widget)
        widget = widget.nextInFocusChain()
    for index in range(window.tabs.count()):  # each tab's page in turn
        window.tabs.setCurrentIndex(index)
        missed = [
            f"{type(w).__name__} {w.objectName() or w.accessibleName() or w.toolTip()[:30]}"
            for w in window.findChildren(QWidget)
            if isinstance(w, CONTROLS)
            and not isinstance(w, QHeaderView)  # headers: the table's keys reach the cells
            and w.objectName() != "qt_tableview_cornerbutton"  # "select all": Ctrl+A
            and w.isVisibleTo(window)
            and w.isEnabled()
            and w.parent().metaObject().className() != "QDockWidget"  # dock title buttons
            and not (_tab_reachable(w) and (w.focusProxy() or w) in chain)
        ]
        assert missed == [], window.tabs.tabText(index)


def test_every_control_has_an_accessible_name_or_text(window):
    nameless = [
        f"{type(w).__name__} {w.objectName()}"
        for w in window.findChildren(QWidget)
        if isinstance(w, QAbstractSpinBox | QComboBox | QLineEdit | QAbstractItemView)
        and not isinstance(w, QHeaderView)
        and not isinstance(w.parent(), QAbstractSpinBox | QComboBox)  # their inner editors
        and w.isVisibleTo(window)
        and not w.accessibleName()
    ]
    assert nameless == []


def test_glossary_opens_from_a_knob(window, qtbot):
    knob = window.findChild(QAbstractSpinBox, "learningRateInput")
    assert 'href="glossary:learning_rate"' in knob.toolTip()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    window.docks["hyperparameterPanel"].raise_()
    knob.setFocus()
    qtbot.waitUntil(knob.hasFocus)
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_F1)
    glossary = window.help.glossary
    assert glossary is not None and glossary.isVisible()
    assert glossary.term == "learning_rate"
    assert "Learning rate" in glossary.text.toPlainText()
    batch = window.findChild(QAbstractSpinBox, "batchSizeInput")
    assert 'href="glossary:batch"' in batch.toolTip()
    glossary.text.anchorClicked.emit(glossary.text.document().baseUrl().resolved("#loss"))
    assert glossary.term == "loss"


def test_glossary_has_the_learners_words():
    from studio.qt.glossary import FIELD_TERMS, TERMS

    words = "weights loss learning_rate epoch batch backpropagation overfitting augmentation"
    assert set(words.split()) | {"transfer_learning", "fine_tuning", "validation"} <= set(TERMS)
    assert set(FIELD_TERMS.values()) <= set(TERMS)


def test_tour_can_be_skipped_and_reopened(window, qtbot):
    maybe_start(window)  # the first run
    tour = window.help.tour
    assert tour.showing and tour.step == 0
    qtbot.mouseClick(tour.next, Qt.MouseButton.LeftButton)
    assert tour.step == 1 and window.tabs.currentIndex() == 2  # step 2 shows Data health
    qtbot.mouseClick(tour.skip, Qt.MouseButton.LeftButton)
    assert not tour.showing
    assert app_settings().value("tourDone", type=bool)
    maybe_start(window)  # the next start: done, so no tour
    assert not tour.showing
    window.findChild(QAction, "tourAction").trigger()
    assert tour.showing and tour.step == 0
    for _ in STEPS:
        qtbot.mouseClick(tour.next, Qt.MouseButton.LeftButton)
    assert not tour.showing


def test_window_alone_shows_no_tour(window):
    assert not window.help.tour.showing  # only the app's start-up offers it


def test_window_icon_and_desktop_name(qtbot):
    from studio.qt.app import create_app

    app = create_app([])
    assert app.desktopFileName() == "app.studio.Studio"
    assert not app.windowIcon().isNull()
    assert Path(app.applicationName()).name == "Studio"
