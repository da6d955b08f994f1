"""Widgets that change many times a second without stalling the window.

Three Qt behaviours make a small change expensive:

- ``QProgressBar.setValue``, ``setRange`` and ``reset`` and ``QStatusBar.showMessage`` and
  ``clearMessage`` call ``repaint()``: a synchronous paint that flushes everything dirty in
  the whole window inside the caller's event. :class:`ProgressBar` and :class:`StatusBar`
  only schedule an update, painted with the next frame.
- A ``QGraphicsScene`` whose ``changed`` signal has no receiver paints its views itself:
  it sends the window's pending update request at once (Qt's
  ``dispatchPendingUpdateRequests``), so a pyqtgraph plot repainting, even a hidden one,
  paints everything else dirty in the window with it. :func:`paint_with_window` connects
  the signal to the view, the way Qt does once anything listens, and the plot is painted
  with the window's next frame like any widget.
- ``QLabel.setText`` asks every layout up to the window to run again, unless the label has
  a fixed size. With docks and plots that relayout takes 15–25 ms on a small machine, once
  for each batch report. :class:`SteadyLabel` draws its own line of text, and its size
  hints do not depend on it.

``benchmarks/gui_gaps.py --events`` shows each cost.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsView, QProgressBar, QSizePolicy, QStatusBar, QWidget


@contextmanager
def painted_later(widget: QWidget) -> Iterator[None]:
    """Within: ``widget.repaint()`` does nothing. After: one ordinary ``update()``."""
    if not widget.updatesEnabled():
        yield
        return
    widget.setUpdatesEnabled(False)
    try:
        yield
    finally:
        widget.setUpdatesEnabled(True)  # re-enabling schedules an update()


class ProgressBar(QProgressBar):
    """A :class:`QProgressBar` whose changes are painted with the next frame."""

    def setValue(self, value: int) -> None:
        if value != self.value():
            with painted_later(self):
                super().setValue(value)

    def setRange(self, minimum: int, maximum: int) -> None:
        with painted_later(self):
            super().setRange(minimum, maximum)

    def reset(self) -> None:
        with painted_later(self):
            super().reset()


class StatusBar(QStatusBar):
    """A :class:`QStatusBar` whose messages are painted with the next frame."""

    def showMessage(self, message: str, timeout: int = 0) -> None:
        with painted_later(self):
            super().showMessage(message, timeout)

    def clearMessage(self) -> None:
        with painted_later(self):
            super().clearMessage()


def paint_with_window(view: QGraphicsView) -> None:
    """Paint the scene of ``view`` (a pyqtgraph plot) with the window's frames."""
    view.scene().changed.connect(view.updateScene)


class SteadyLabel(QWidget):
    """One line of text that changes often: its size hints never change with the text,
    so ``setText`` repaints the label and nothing else. It shows as much of the text as
    fits (the rest elided, the full text on hover), and asks for room for ``widest``."""

    def __init__(self, text: str = "", widest: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._text = ""
        self._widest = widest
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setText(text)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:
        if text == self._text:
            return
        self._text = text
        self.setAccessibleDescription(text)
        self._tip()
        self.update()

    def clear(self) -> None:
        self.setText("")

    def sizeHint(self) -> QSize:
        return QSize(self.fontMetrics().horizontalAdvance(self._widest) + 4, self._height())

    def minimumSizeHint(self) -> QSize:
        return QSize(10 * self.fontMetrics().averageCharWidth(), self._height())

    def _height(self) -> int:
        return self.fontMetrics().height() + 2

    def _shown(self) -> str:
        mode = Qt.TextElideMode.ElideRight
        return self.fontMetrics().elidedText(self._text, mode, self.width() - 2)

    def _tip(self) -> None:
        self.setToolTip(self._text if self._shown() != self._text else "")

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._tip()

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        self.style().drawItemText(
            painter,
            self.rect().adjusted(1, 0, -1, 0),
            align,
            self.palette(),
            self.isEnabled(),
            self._shown(),
            self.foregroundRole(),
        )
