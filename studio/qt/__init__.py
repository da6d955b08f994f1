"""Everything that imports PySide6 or pyqtgraph lives in this package."""

from studio.qt.main_window import MainWindow

__all__ = ["MainWindow"]
