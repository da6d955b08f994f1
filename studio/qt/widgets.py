"""Small behaviours every widget of the window shares.

:func:`guard_wheel` keeps the mouse wheel from changing a spin box, combo box or slider the
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
    """The event filter of each guarded control: the wheel goes to its parent until the
    control has focus."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.Wheel or watched.hasFocus():
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


def guard_wheel(root: QWidget) -> WheelGuard:
    """Guard every value control inside ``root``: it takes ``Qt.StrongFocus`` (the wheel no
    longer focuses it) and passes wheel events on until focused. The filter sits on each
    control, not on the application: an application-wide Python filter runs for every event
    of every widget (over a thousand a second while training), each time waiting for the
    GIL a worker holds, and the window stalls."""
    app = QApplication.instance()
    guard = app.findChild(WheelGuard) or WheelGuard(app)
    for widget in root.findChildren(QWidget):
        if guarded(widget):
            widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            widget.installEventFilter(guard)  # installing it again only moves it first
    return guard
