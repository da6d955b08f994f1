"""Start the desktop app: the window appears first, heavy libraries load after."""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from studio import __version__
from studio.desktop import APP_ID
from studio.resources import resource_path

GIL_SWITCH_SECONDS = 0.001  # a worker holding the GIL hands it to the GUI thread this fast


def create_app(argv: list[str] | None = None) -> QApplication:
    """The QApplication, with Studio's name, icon, palette and style sheet. Python threads
    swap the GIL every millisecond instead of five, so a busy worker never keeps the window
    waiting."""
    from studio.qt.theme import theme

    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("Studio")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)  # Wayland and docks match the window to its menu entry
    icon = resource_path("icons", "studio.svg")
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    theme()  # light or dark, as the user chose or the system is
    return app


def show_main_window(app: QApplication):
    """Build and show the window without pyqtgraph or torch, then paint it once."""
    from studio.qt.main_window import MainWindow

    window = MainWindow(defer_plots=True)
    window.fit_to_screen()  # at 150 % a laptop has 1280x720: docks tab, nothing off screen
    window.show()
    app.processEvents()  # get the first frame on screen before loading anything heavy
    return window


def run() -> int:
    from studio.qt.tour import maybe_start

    app = create_app()
    window = show_main_window(app)
    QTimer.singleShot(0, window.finish_startup)
    QTimer.singleShot(0, window.project.reopen_last)  # the last project comes back
    QTimer.singleShot(0, lambda: maybe_start(window))  # the first-run tour
    return app.exec()
