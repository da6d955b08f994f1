"""The project being edited: the one config plus the scanned dataset. Panels observe it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from studio.config import ProjectConfig
from studio.config.schema import SETTINGS
from studio.engine.machine import Machine
from studio.engine.training.resolve import Conflict, DataFacts, Resolution, adopt, resolve
from studio.qt.tasks import TaskRunner


class ProjectModel(QObject):
    """Holds the truth; widgets read it, write edits through :meth:`update`, and listen.

    ``config`` is the project's: the user's choices (named in ``config.user_set``) and the
    values the settings resolver derived from them, kept current on every edit.
    ``resolution`` is the resolver's answer (reasons, and the machine's limits applied): what
    a run uses. Signals (all on the GUI thread): ``config_changed()`` after any edit,
    ``machine_detected()`` once the machine is known (the resolution, not necessarily the
    config, changes), ``scan_started()``,
    ``dataset_changed(index)`` with a ``DatasetIndex`` once folders are scanned (empty
    after a failed scan), ``scan_failed(message)``, ``sources_rejected(message)`` when folders
    being added held no images, could not be read or their scan was cancelled (the project
    and what the panels show stay as they were), and ``project_changed()`` after another
    project replaced this one (new, open): every panel drops what it showed of the last.
    ``facts`` is what the resolver follows of the data (class counts, image sizes, colours),
    read on the scan's worker; ``facts_changed()`` follows ``dataset_changed`` once the
    settings have been derived from them.
    """

    config_changed = Signal()
    machine_detected = Signal()
    scan_started = Signal()
    dataset_changed = Signal(object)
    scan_failed = Signal(str)
    facts_changed = Signal()
    sources_rejected = Signal(str)
    project_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.machine: Machine | None = None  # known once detect_machine() has run
        self.facts: DataFacts | None = None
        self.config = ProjectConfig()
        self.index: Any = None  # studio.engine.data.index.DatasetIndex once scanned
        # content hashes of the index's files, once the health check has read them: the
        # split (studio.engine.data.splits.split_dataset) reuses them instead of re-reading
        self.digests: dict[Path, str] = {}
        self.tasks = TaskRunner(self)
        self._scan_generation = 0
        self._scan_token: Any = None  # the running scan's StopToken
        self._adding: list[Path] = []  # folders the running scan may add to the project
        self._resolved: _Resolved | None = None  # the last resolution and what it was of

    # -- config -------------------------------------------------------------------------
    @property
    def config(self) -> ProjectConfig:
        return self._config

    @config.setter
    def config(self, config: ProjectConfig) -> None:
        """A new project's or run's settings: resolved at once (a value that differs from
        what Studio derives, e.g. edited by hand in the project file, is the user's)."""
        if config.data.sources != getattr(self, "_config", config).data.sources:
            self.facts = None  # another dataset's facts: until its folders are read again
        self._config = adopt(config)
        self._resolve(latest=set(self._config.user_set))

    def update(self, section: str, *, derive: Iterable[str] = (), **values: Any) -> None:
        """The user sets fields of one config section (``"train"``, ``"model"``…), validated;
        they count as set by the user. ``derive`` hands settings back to the resolver."""
        target = getattr(self.config, section)
        changed = False
        for key, value in values.items():
            if getattr(target, key) != value:
                setattr(target, key, value)  # validate_assignment: bad values raise here
                changed = True
        names = {f"{section}.{key}" for key in values} & SETTINGS
        marked = (set(self.config.user_set) | names) - set(derive)
        if marked != set(self.config.user_set):
            self.config.user_set = sorted(marked)
            changed = True
        if changed:
            self._resolve(latest=names)
            self.config_changed.emit()

    def use_derived(self, *names: str) -> None:
        """Let the resolver choose ``names`` again (the user's values are dropped)."""
        if set(names) & set(self.config.user_set):
            self.config.user_set = [n for n in self.config.user_set if n not in names]
            self._resolve(latest=set())
            self.config_changed.emit()

    def detect_machine(self) -> None:
        """Find the cores, memory and accelerator off the GUI thread (it imports torch);
        the settings are resolved again for this machine."""

        def found(machine: Machine) -> None:
            before = self._config.model_copy(deep=True)
            self.machine = machine
            self._resolve(latest=set())
            self.machine_detected.emit()  # what a run uses may differ: panels show it
            if self._config != before:
                self.config_changed.emit()

        def detect() -> Machine:
            from studio.engine.machine import detect

            return detect()

        self.tasks.start(detect, found)

    @property
    def resolution(self) -> Resolution:
        """What a run of the current settings uses, with the reasons: resolved once for each
        state of the settings, the machine and the data (a drop asks about 15 times). Read
        it, never change it."""
        state = self._config.model_dump_json()
        cached = self._resolved
        if not (
            cached is not None
            and cached.state == state
            and cached.machine is self.machine
            and cached.facts is self.facts
        ):
            resolution = resolve(self._config, self.machine, self.facts)
            cached = self._resolved = _Resolved(state, self.machine, self.facts, resolution)
        return cached.resolution

    def _resolve(self, latest: set[str]) -> None:
        """Resolve; when choices conflict, the user's older ones give way to ``latest``.
        The derived values are written into the config so every panel shows them."""
        while True:
            try:
                resolution = resolve(self._config, self.machine, self.facts)
                break
            except Conflict as conflict:  # one of the user's choices gives way, then again
                mine = [n for n in conflict.names if n in self._config.user_set]
                older = [n for n in mine if n not in latest] or mine
                if not older:
                    raise
                self._config.user_set = [n for n in self._config.user_set if n != older[0]]
        for name, value in resolution.kept_values().items():
            section, field = name.split(".")
            setattr(getattr(self._config, section), field, value)

    # -- dataset ------------------------------------------------------------------------
    @property
    def scanning(self) -> bool:
        """Whether a scan of the folders runs."""
        return self._scan_token is not None

    @property
    def has_data(self) -> bool:
        """Whether the last scan found images."""
        return self.index is not None and len(self.index) > 0

    @property
    def sources(self) -> list[Path]:
        return list(self.config.data.sources)

    def add_sources(self, folders: list[Path]) -> None:
        """Add folders (duplicates ignored) and rescan everything in the background. The
        folders join the project only once the scan found images in them; otherwise
        ``sources_rejected(message)`` says why and nothing changes."""
        added = [*self._adding]
        for folder in folders:
            if folder not in self.sources and folder not in added:
                added.append(folder)
        self._scan([*self.sources, *added], added)

    def clear_sources(self) -> None:
        self.config.data.sources = []
        self.config_changed.emit()
        self.rescan()

    def rescan(self) -> None:
        """Scan the folders on a worker, and read there what the resolver follows of the
        data; the settings that follow it are derived again (the user's stay)."""
        self._scan(self.sources, [])

    def _scan(self, sources: list[Path], added: list[Path]) -> None:
        """Scan ``sources`` on a worker, tracked (progress, Cancel); the latest request wins.
        ``added`` are the folders not yet in the project, kept only when they hold images."""
        from studio.engine.control import Stopped, StopToken

        if self._scan_token is not None:
            self._scan_token.stop()  # a newer request replaces it
        self._scan_generation += 1
        generation = self._scan_generation
        token = self._scan_token = StopToken()
        self._adding = list(added)
        edits = self.config.data.model_copy(deep=True)
        task = self.tasks.track("Scanning folders", token.stop)
        self.scan_started.emit()

        def scan() -> Any:
            from studio.engine.data.index import Edits, scan_folders
            from studio.engine.training.data_facts import data_facts

            index = scan_folders(sources, token, task.report)
            return index, data_facts(Edits.of(edits).apply(index)) if len(index) else None

        def done(result: Any) -> None:
            if generation != self._scan_generation:  # latest request wins
                return
            index, facts = result
            self._scan_token, self._adding = None, []
            empty = [f for f in added if not _holds_images(index, f)]
            if added and len(empty) == len(added):
                self.sources_rejected.emit(_no_images(empty[0]))
                return
            if added:
                self.config.data.sources = [s for s in sources if s not in empty]
                self.config_changed.emit()
            self.index, self.digests = index, {}
            self.dataset_changed.emit(index)
            self.facts = facts
            before = self._config.model_copy(deep=True)
            self._resolve(latest=set())
            if self._config != before:
                self.config_changed.emit()
            self.facts_changed.emit()
            if empty:
                self.sources_rejected.emit(_no_images(empty[0]))

        def failed(exc: Exception) -> None:
            if generation != self._scan_generation:
                return
            self._scan_token, self._adding = None, []
            if isinstance(exc, Stopped):
                message = "Scan cancelled: the dataset is as it was."
            else:
                message = f"{exc} — pick a folder of class folders."
            if added:  # the project keeps its folders and what was shown
                self.sources_rejected.emit(message)
                return
            from studio.engine.data.index import DatasetIndex

            self.index, self.digests = DatasetIndex(classes=[], paths=[], labels=[]), {}
            self.facts = None
            self.dataset_changed.emit(self.index)  # nothing of the folders read before stays
            self.scan_failed.emit(message)

        self.tasks.start(scan, done, failed, token.stop, task=task)


@dataclasses.dataclass(frozen=True)
class _Resolved:
    state: str  # the settings as JSON
    machine: Machine | None
    facts: DataFacts | None
    resolution: Resolution


def _holds_images(index: Any, folder: Path) -> bool:
    root = Path(folder).expanduser()
    return any(p.is_relative_to(root) for p in index.paths)


def _no_images(folder: Path) -> str:
    return f"No images found in {folder} — pick a folder of class folders."
