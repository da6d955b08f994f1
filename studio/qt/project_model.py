"""The project being edited: the one config plus the scanned dataset. Panels observe it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from studio.config import ProjectConfig
from studio.qt.tasks import TaskRunner


class ProjectModel(QObject):
    """Holds the truth; widgets read it, write edits through :meth:`update`, and listen.

    Signals (all on the GUI thread): ``config_changed()`` after any edit,
    ``scan_started()``, ``dataset_changed(index)`` with a ``DatasetIndex`` once folders are
    scanned, and ``scan_failed(message)``.
    """

    config_changed = Signal()
    scan_started = Signal()
    dataset_changed = Signal(object)
    scan_failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.config = ProjectConfig()
        self.index: Any = None  # studio.engine.data.index.DatasetIndex once scanned
        # content hashes of the index's files, once the health check has read them: the
        # split (studio.engine.data.splits.split_dataset) reuses them instead of re-reading
        self.digests: dict[Path, str] = {}
        self.tasks = TaskRunner(self)
        self._scan_generation = 0

    # -- config -------------------------------------------------------------------------
    def update(self, section: str, **values: Any) -> None:
        """Set fields of one config section (``"train"``, ``"model"``…), validated."""
        target = getattr(self.config, section)
        changed = False
        for key, value in values.items():
            if getattr(target, key) != value:
                setattr(target, key, value)  # validate_assignment: bad values raise here
                changed = True
        if changed:
            self.config_changed.emit()

    # -- dataset ------------------------------------------------------------------------
    @property
    def sources(self) -> list[Path]:
        return list(self.config.data.sources)

    def add_sources(self, folders: list[Path]) -> None:
        """Add folders (duplicates ignored) and rescan everything in the background."""
        merged = self.sources
        for folder in folders:
            if folder not in merged:
                merged.append(folder)
        self.config.data.sources = merged
        self.config_changed.emit()
        self.rescan()

    def clear_sources(self) -> None:
        self.config.data.sources = []
        self.config_changed.emit()
        self.rescan()

    def rescan(self) -> None:
        self._scan_generation += 1
        generation = self._scan_generation
        sources = self.sources
        self.scan_started.emit()

        def scan() -> Any:
            from studio.engine.data.index import scan_folders

            return scan_folders(sources)

        def done(index: Any) -> None:
            if generation == self._scan_generation:  # latest request wins
                self.index, self.digests = index, {}
                self.dataset_changed.emit(index)

        def failed(exc: Exception) -> None:
            if generation == self._scan_generation:
                self.scan_failed.emit(str(exc))

        self.tasks.start(scan, done, failed)
