"""The window fits its screen: docks scroll instead of growing the window, long combo boxes
shrink to a readable width, and the dock layout follows the space there is.

:func:`fit_to_screen` picks one of three layouts from the screen's free area (in logical
pixels, so 150 % on 1920×1080 counts as 1280×720):

- ``wide``: Dataset over Model on the left, Augmentation over Training settings on the right;
- ``tabbed``: the same two columns, each one a pair of tabs (full height for each panel);
- ``narrow``: one column of four tabs (down its side) beside the central area.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QMainWindow,
    QScrollArea,
    QSizePolicy,
    QTabWidget,
    QWidget,
)

WIDE = (1500, 900)  # free screen space from which the docks sit stacked, side by side
TABBED_WIDTH = 1180  # below this, all four docks share one column of tabs
PREFERRED = (1360, 820)
COMBO_CHARACTERS = 12  # a combo box is at least this many characters wide, not its longest item
DOCK_MIN_WIDTH = 230
CENTRAL_MIN_WIDTH = 440  # the views may be narrower than their widest page's button row


def frameless_scroll(content: QWidget) -> QScrollArea:
    """``content`` in a frameless scroll area that gives it all its width and height: shown
    whole when there is room, scrolled when the area is smaller than its minimum size."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(content)
    return area


def scrollable(panel: QWidget) -> QScrollArea:
    """A dock's ``panel`` in a :func:`frameless_scroll`: scrolled when the dock is smaller
    than the panel's minimum size."""
    area = frameless_scroll(panel)
    area.setObjectName(f"{panel.objectName() or 'panel'}Scroll")
    area.setMinimumWidth(DOCK_MIN_WIDTH)
    area.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
    return area


def compact_combos(root: QWidget) -> None:
    """Every combo box under ``root`` asks for :data:`COMBO_CHARACTERS`, not its longest item
    (the popup still shows whole items)."""
    for combo in root.findChildren(QComboBox):
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(COMBO_CHARACTERS)


def layout_for(width: int, height: int) -> str:
    """``wide``, ``tabbed`` or ``narrow`` for a free screen area of ``width`` × ``height``."""
    if width >= WIDE[0] and height >= WIDE[1]:
        return "wide"
    return "tabbed" if width >= TABBED_WIDTH else "narrow"


def arrange_docks(window: QMainWindow, docks: dict[str, Any], mode: str) -> None:
    """Place the four docks as ``mode`` says (see the module docstring)."""
    area = Qt.DockWidgetArea
    side_tabs = QTabWidget.TabPosition.West if mode == "narrow" else QTabWidget.TabPosition.North
    window.setTabPosition(area.AllDockWidgetAreas, side_tabs)  # four titles, none elided
    left = [docks["datasetBrowser"], docks["modelPicker"]]
    right = [docks["augmentationPreview"], docks["hyperparameterPanel"]]
    for dock in (*left, *right):
        dock.setFloating(False)
        dock.show()
    if mode == "narrow":
        left, right = [*left, *right], []
    for side, column in ((area.LeftDockWidgetArea, left), (area.RightDockWidgetArea, right)):
        for dock in column:
            window.addDockWidget(side, dock, Qt.Orientation.Vertical)
        if mode != "wide":
            for dock in column[1:]:
                window.tabifyDockWidget(column[0], dock)
        if column:
            column[0].raise_()
    widths = [300, 340] if mode != "narrow" else [340]  # the augmentation grid needs 340
    firsts = [column[0] for column in (left, right) if column]
    window.resizeDocks(firsts, widths[: len(firsts)], Qt.Orientation.Horizontal)


def fit_to_screen(window: QMainWindow, docks: dict[str, Any]) -> str:
    """Lay the docks out for the window's screen and size the window to fit it; returns
    the layout chosen."""
    free = window.screen().availableGeometry()
    mode = layout_for(free.width(), free.height())
    arrange_docks(window, docks, mode)
    width = min(PREFERRED[0], free.width())
    height = min(PREFERRED[1], free.height())
    window.resize(width, height)
    frame = window.frameGeometry()
    x = free.x() + max(0, (free.width() - frame.width()) // 2)
    y = free.y() + max(0, (free.height() - frame.height()) // 2)
    window.move(x, y)
    return mode
