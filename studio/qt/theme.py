"""Light and dark: follow the system's colour scheme, or the user's View → Appearance choice.

One :class:`Theme` per application sets the palette and style sheet; every widget, and every
pyqtgraph plot passed to :func:`~studio.qt.plot_colours.follow_palette`, recolours on the
palette change that follows.
The choice is kept in the app settings (``theme`` = ``system``, ``light`` or ``dark``).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QColor, QPalette
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from studio.qt.project_actions import app_settings
from studio.resources import resource_path

MODES = {"system": "Follow &system", "light": "&Light", "dark": "&Dark"}
Role, Group = QPalette.ColorRole, QPalette.ColorGroup

LIGHT = {
    Role.Window: "#f3f4f6",
    Role.WindowText: "#111827",
    Role.Base: "#ffffff",
    Role.AlternateBase: "#f3f4f6",
    Role.ToolTipBase: "#ffffff",
    Role.ToolTipText: "#111827",
    Role.PlaceholderText: "#6b7280",
    Role.Text: "#111827",
    Role.Button: "#f9fafb",
    Role.ButtonText: "#111827",
    Role.BrightText: "#dc2626",
    Role.Light: "#ffffff",
    Role.Midlight: "#e5e7eb",
    Role.Mid: "#6b7280",
    Role.Dark: "#9ca3af",
    Role.Shadow: "#4b5563",
    Role.Highlight: "#2563eb",
    Role.HighlightedText: "#ffffff",
    Role.Link: "#1d4ed8",
    Role.LinkVisited: "#6d28d9",
}
DARK = {
    Role.Window: "#1e2126",
    Role.WindowText: "#e5e7eb",
    Role.Base: "#2a2e35",  # lighter than the window, so fields and check boxes stand out
    Role.AlternateBase: "#31353d",
    Role.ToolTipBase: "#2b3038",
    Role.ToolTipText: "#e5e7eb",
    Role.PlaceholderText: "#8b93a1",
    Role.Text: "#e5e7eb",
    Role.Button: "#353a43",
    Role.ButtonText: "#e5e7eb",
    Role.BrightText: "#f87171",
    Role.Light: "#4a505b",
    Role.Midlight: "#3d434d",
    Role.Mid: "#9aa3b2",
    Role.Dark: "#111316",
    Role.Shadow: "#000000",
    Role.Highlight: "#3b82f6",
    Role.HighlightedText: "#ffffff",
    Role.Link: "#7fb0ff",
    Role.LinkVisited: "#c4a7ff",
}
DISABLED = {"light": "#9ca3af", "dark": "#6b7280"}


def palette(dark: bool) -> QPalette:
    """Studio's light or dark palette (the same in every Qt style)."""
    colours = DARK if dark else LIGHT
    result = QPalette()
    for role, colour in colours.items():
        result.setColor(role, QColor(colour))
    muted = QColor(DISABLED["dark" if dark else "light"])
    for role in (Role.Text, Role.WindowText, Role.ButtonText):
        result.setColor(Group.Disabled, role, muted)
    result.setColor(Group.Disabled, Role.Base, QColor(colours[Role.Window]))
    return result


def is_dark(widget: QWidget) -> bool:
    """Whether ``widget`` is drawn on a dark background."""
    return widget.palette().color(Role.Window).lightness() < 128


class Theme(QObject):
    """The application's appearance. ``changed(bool dark)`` fires after each switch."""

    changed = Signal(bool)

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.app = app
        value = app_settings().value("theme", "system")
        self.mode = value if value in MODES else "system"
        self.dark: bool | None = None
        app.styleHints().colorSchemeChanged.connect(lambda _scheme: self.apply())
        self.apply()

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown theme {mode!r}; choose one of {', '.join(MODES)}")
        self.mode = mode
        app_settings().setValue("theme", mode)
        hints = self.app.styleHints()
        if mode == "system":
            hints.unsetColorScheme()  # native dialogs and title bars follow the system again
        else:
            hints.setColorScheme(Qt.ColorScheme.Dark if mode == "dark" else Qt.ColorScheme.Light)
        self.apply()

    def system_is_dark(self) -> bool:
        return self.app.styleHints().colorScheme() == Qt.ColorScheme.Dark

    def apply(self) -> None:
        dark = self.mode == "dark" or (self.mode == "system" and self.system_is_dark())
        if dark == self.dark:
            return
        self.dark = dark
        self.app.setPalette(palette(dark))
        sheets = ["style.qss", "style-dark.qss"] if dark else ["style.qss"]
        self.app.setStyleSheet(
            "\n".join(resource_path(s).read_text(encoding="utf-8") for s in sheets)
        )
        self.changed.emit(dark)


def theme() -> Theme:
    """The running application's :class:`Theme` (created on first use)."""
    app = QApplication.instance()
    found = app.findChild(Theme)
    return found if found is not None else Theme(app)


def add_appearance_menu(view_menu: QMenu) -> QActionGroup:
    """View → Appearance: Follow system / Light / Dark, checked as the current mode."""
    current = theme()
    menu = view_menu.addMenu("&Appearance")
    menu.setObjectName("appearanceMenu")
    group = QActionGroup(menu)
    for mode, text in MODES.items():
        action = QAction(text, menu, checkable=True)
        action.setObjectName(f"theme{mode.title()}Action")
        action.setChecked(mode == current.mode)
        action.triggered.connect(lambda _on=False, mode=mode: current.set_mode(mode))
        group.addAction(action)
        menu.addAction(action)
    return group
