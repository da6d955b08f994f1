"""Progress that changes every batch never repaints or re-lays out the whole window at once."""

from __future__ import annotations

from pathlib import Path

from conftest import TRAIN_TIMEOUT, drop_folders, set_knobs, settle
from PySide6.QtCore import QCoreApplication, QEvent, QObject
from PySide6.QtWidgets import QWidget

from studio.qt.steady import ProgressBar, StatusBar, SteadyLabel


class Counter(QObject):
    """Counts the events of one type that reach the widgets it is installed on."""

    def __init__(self, kind: QEvent.Type) -> None:
        super().__init__()
        self.kind, self.count = kind, 0

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
        if event.type() == self.kind:
            self.count += 1
        return False


def shown(qtbot, widget: QWidget) -> Counter:
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    paints = Counter(QEvent.Type.Paint)
    widget.installEventFilter(paints)
    return paints


def test_progress_and_messages_paint_with_the_next_frame_not_at_once(qtbot):
    bar = ProgressBar()
    bar.setRange(0, 100)
    paints = shown(qtbot, bar)
    bar.setValue(50)
    assert paints.count == 0 and bar.value() == 50  # QProgressBar would have painted here
    qtbot.waitUntil(lambda: paints.count > 0)

    status = StatusBar()
    paints = shown(qtbot, status)
    status.showMessage("Epoch 1 of 2")
    assert paints.count == 0 and status.currentMessage() == "Epoch 1 of 2"
    qtbot.waitUntil(lambda: paints.count > 0)


def test_a_steady_label_elides_and_never_moves_the_layout(qtbot):
    holder = QWidget()
    label = SteadyLabel("Ready", widest="Epoch 10/10", parent=holder)
    label.resize(label.sizeHint())
    paints = shown(qtbot, holder)
    hints = (label.sizeHint(), label.minimumSizeHint())
    layouts = Counter(QEvent.Type.LayoutRequest)
    holder.installEventFilter(layouts)
    label.setText("Epoch 3/10 · val acc 97.5% · 1,234 img/s: far longer than it was made for")
    QCoreApplication.sendPostedEvents()
    assert layouts.count == 0 and (label.sizeHint(), label.minimumSizeHint()) == hints
    assert label.text().startswith("Epoch 3/10") and label.toolTip() == label.text()  # elided
    qtbot.waitUntil(lambda: paints.count > 0)
    label.setText("Done")
    assert label.toolTip() == ""


def test_a_run_streams_without_relaying_out_the_window(qtbot, window, dataset: Path):
    drop_folders(qtbot, window, [dataset])
    set_knobs(window, epochs=3)
    layouts = Counter(QEvent.Type.LayoutRequest)
    window.installEventFilter(layouts)
    seen = []  # window relayouts so far, at each batch report
    window.controller.batches_ended.connect(lambda _events: seen.append(layouts.count))
    with qtbot.waitSignal(window.controller.run_finished, timeout=TRAIN_TIMEOUT):
        window.train_button.click()
    settle(qtbot)  # the window shows the run's end
    assert len(seen) >= 6
    assert seen[-1] - seen[1] <= 1  # the progress label used to re-lay it out at every report
    assert "Done" in window.progress_label.text()
    for plot in window.plots.plots.values():
        axis = plot.getPlotItem().getAxis("left")
        assert axis.labelUnitPrefix == ""  # no SI prefix on "Loss" or "Accuracy (%)"


def test_every_live_plot_is_painted_with_the_window(window):
    """A scene with no receiver for ``changed`` makes Qt paint the whole window inside the
    scene's own update; ``gui_gaps.py`` counted 64 such paints in a two-epoch run."""
    window.plots.build()
    for plot in window.plots.plots.values():
        scene = plot.scene()
        changed = scene.metaObject().method(
            scene.metaObject().indexOfSignal("changed(QList<QRectF>)")
        )
        assert scene.isSignalConnected(changed)
