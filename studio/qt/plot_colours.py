"""pyqtgraph plots in the window's colours: background, axes, title and legend follow the
palette, so they switch with the light or dark theme (:mod:`studio.qt.theme`)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor, QPalette

Role = QPalette.ColorRole


class _PlotColours(QObject):
    """Recolours one pyqtgraph widget from its palette whenever the palette changes."""

    def __init__(self, plot: Any) -> None:
        super().__init__(plot)
        plot.installEventFilter(self)
        self.recolour(plot)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.PaletteChange:
            self.recolour(watched)
        return False

    @staticmethod
    def recolour(plot: Any) -> None:
        colours = plot.palette()
        background = colours.color(Role.Base)
        foreground = colours.color(Role.Text)
        plot.setBackground(background)
        item = plot.getPlotItem()
        for name in ("left", "bottom", "right", "top"):
            axis = item.getAxis(name)
            axis.setPen(foreground)
            axis.setTextPen(foreground)
        if item.titleLabel.text:
            item.setTitle(item.titleLabel.text, color=foreground)
        if item.legend is not None:  # a framed legend on the plot's own background
            item.legend.setLabelTextColor(foreground)
            fill = QColor(background)
            fill.setAlpha(220)
            item.legend.setBrush(fill)
            item.legend.setPen(colours.color(Role.Mid))


def follow_palette(plot: Any) -> Any:
    """Colour a pyqtgraph ``PlotWidget`` like the window, now and after each theme switch."""
    _PlotColours(plot)
    return plot
