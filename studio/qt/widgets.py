"""Small behaviours every widget of the window shares.

:class:`WheelGuard` keeps the mouse wheel from changing a spin box, combo box or slider the
user is only scrolling past: such a control takes wheel input once it has focus (a click or
Tab), and until then the wheel scrolls the panel around it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QScrollBar,
    QWidget,
)

GUARDED = (QAbstractSpinBox, QComboBox, QAbstractSlider)


def guarded(widget: QObject) -> bool:
    """Whether ``widget`` is a value control (a scroll bar is not: it always scrolls)."""
    return isinstance(widget, GUARDED) and not isinstance(widget, QScrollBar)


class WheelGuard(QObject):
    """An application-wide event filter: guarded controls get ``Qt.StrongFocus`` (the wheel
    no longer focuses them) and pass wheel events on to their parent until focused."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.Polish, QEvent.Type.Wheel) or not guarded(watched):
            return False
        if kind == QEvent.Type.Polish:
            watched.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            return False
        if watched.hasFocus():
            return False
        scroll_past(watched, event)
        return True


def scroll_past(widget: QWidget, event: QWheelEvent) -> None:
    """Hand ``event`` to the nearest scroll area around ``widget`` (if any)."""
    area = widget.parentWidget()
    while area is not None and not isinstance(area, QAbstractScrollArea):
        area = area.parentWidget()
    if area is not None:
        viewport = area.viewport()
        where = QPointF(viewport.mapFromGlobal(event.globalPosition().toPoint()))
        copy = QWheelEvent(
            where,
            event.globalPosition(),
            event.pixelDelta(),
            event.angleDelta(),
            event.buttons(),
            event.modifiers(),
            event.phase(),
            event.inverted(),
        )
        QApplication.sendEvent(viewport, copy)
    event.accept()


def guard_wheel(app: QApplication) -> WheelGuard:
    """Install the application's :class:`WheelGuard` (once)."""
    found = app.findChild(WheelGuard)
    if found is None:
        found = WheelGuard(app)
        app.installEventFilter(found)
    return found
