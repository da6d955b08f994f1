"""Small things users notice: the wheel, the ETA across a pause, the View menu."""

from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QAction, QColor, QPalette, QWheelEvent
from PySide6.QtWidgets import QApplication, QDialog, QPushButton, QScrollArea, QWidget

from studio.engine.events import BatchEnded, RunStarted
from studio.qt.theme import theme
from studio.qt.widgets import guarded


def wheel(widget: QWidget, steps: int = 1) -> None:
    """A wheel turn of ``steps`` notches over the middle of ``widget`` (where the window
    system's event arrives after passing a spin box's line edit)."""
    centre = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(
        centre,
        QPointF(widget.mapToGlobal(centre.toPoint())),
        QPoint(),
        QPoint(0, 120 * steps),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_the_wheel_over_an_unfocused_spin_box_scrolls_the_panel_not_the_value(window, qtbot):
    epochs = window.hyper.inputs["epochs"]
    scroll = next(
        w for w in window.hyper.findChildren(QScrollArea) if w.widget().isAncestorOf(epochs)
    )
    window.resize(1280, 600)  # short enough for the settings to scroll
    qtbot.waitUntil(lambda: scroll.verticalScrollBar().maximum() > 0)
    before = epochs.value()
    knobs = [w for w in window.findChildren(QWidget) if guarded(w)]
    assert len(knobs) > 20 and all(w.focusPolicy() == Qt.FocusPolicy.StrongFocus for w in knobs)
    wheel(epochs, -1)
    assert epochs.value() == before  # the knob kept its value (and autosave has nothing)
    assert window.model.config.train.epochs == before
    assert scroll.verticalScrollBar().value() > 0  # the panel scrolled instead
    combo = window.augment.preset
    chosen = combo.currentIndex()
    wheel(combo, -1)
    assert combo.currentIndex() == chosen
    epochs.setFocus()
    qtbot.waitUntil(epochs.hasFocus)
    wheel(epochs, 1)
    assert epochs.value() == before + 1  # once focused, the wheel edits it


def test_the_eta_leaves_out_paused_time(window, monkeypatch):
    now = [100.0]
    window.eta.clock = lambda: now[0]
    emit = window.controller
    emit.run_started.emit(
        RunStarted(
            model="m",
            device="cpu",
            classes=["a", "b"],
            train_images=100,
            val_images=20,
            epochs=2,
            batches_per_epoch=10,
        )
    )

    def batches(epoch: int, batch: int) -> None:
        emit.batches_ended.emit(
            [BatchEnded(epoch=epoch, batch=batch, batches=10, loss=1.0, acc=0.5)]
        )

    batches(1, 1)
    assert "ETA …" in window.progress_label.text()
    now[0] += 10  # 5 batches in 10 s: 2 s a batch
    batches(1, 6)
    assert "ETA 0:28" in window.progress_label.text()  # 14 batches left
    window.pause_button.setEnabled(True)
    window.pause_button.setChecked(True)
    now[0] += 600  # ten minutes away
    window.pause_button.setChecked(False)
    now[0] += 2
    batches(1, 7)
    assert "ETA 0:26" in window.progress_label.text()  # still 2 s a batch, 13 left


def test_the_view_menu_toggles_each_dock_and_resets_the_layout(window, qtbot):
    view = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    toggles = {a.text(): a for a in view.actions()}
    for dock in window.docks.values():
        action = toggles[dock.windowTitle()]
        assert action.isEnabled()
        action.trigger()
        assert dock.isHidden()
    window.findChild(QAction, "resetLayoutAction").trigger()
    assert all(dock.isVisible() for dock in window.docks.values())
    assert window.size().width() <= window.screen().availableGeometry().width()


def test_the_lr_finder_shows_its_plot_in_a_readable_window(window, qtbot):
    finding = SimpleNamespace(lrs=[1e-5, 1e-4, 1e-3, 1e-2, 1e-1], losses=[2.3, 2.1, 1.2, 1.5, 4.0],
                              suggestion=1e-3)  # fmt: skip
    window.hyper._found(finding)
    dialog = window.findChild(QDialog, "lrFinderDialog")
    qtbot.waitUntil(dialog.isVisible)
    plot = dialog.findChild(QWidget, "lrFinderPlot")
    assert plot.width() >= 360 and plot.height() >= 240
    item = plot.getPlotItem()
    assert "Learning rate" in item.getAxis("bottom").labelText
    assert plot.backgroundBrush().color() == window.palette().color(QPalette.ColorRole.Base)
    dialog.findChild(QPushButton, "lrFinderApplyButton").click()
    assert window.model.config.train.learning_rate == 1e-3
    assert not dialog.isVisible()


def _contrast(a: QColor, b: QColor) -> float:
    def luminance(c: QColor) -> float:
        def channel(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return (
            0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())
        )

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_warnings_are_readable_in_both_themes(window, qtbot):
    label = window.augment.summary
    try:
        for mode in ("light", "dark"):
            theme().set_mode(mode)
            label.ensurePolished()
            text = label.palette().color(QPalette.ColorRole.WindowText)
            ground = window.palette().color(QPalette.ColorRole.Window)
            assert text != window.palette().color(QPalette.ColorRole.WindowText)  # amber
            assert _contrast(text, ground) >= 4.5, (mode, text.name(), ground.name())
    finally:
        theme().set_mode("system")


def test_the_runs_table_fits_its_width_and_elides_long_names(qtbot, tmp_path):
    from studio.engine.runs.store import RunStore
    from studio.qt.panels.runs import NAME, RunsPanel

    long_name = "a very long run name that a user typed to remember what changed " * 2
    with RunStore(tmp_path) as store:
        run = store.create_run({}, name=long_name, model="convnext_tiny.fb_in22k_ft_in1k")
        store.finish_run(run, "finished")
        panel = RunsPanel(lambda: store)
        qtbot.addWidget(panel)
        panel.resize(600, 400)  # the Runs tab's width at 1280x720
        panel.show()
        qtbot.waitExposed(panel)
        table = panel.table
        assert table.horizontalHeader().length() <= table.viewport().width()
        assert not table.horizontalScrollBar().isVisible()
        assert table.item(0, NAME).toolTip() == long_name  # in full on hover
        panel.close()
