"""Projects in the window: File → New / Open / Save / Save As / Recent, autosave, the title's
unsaved mark, the close question, and the Runs tab over the project's history (each run's
:class:`~studio.engine.training.session.RunSession` records itself there).

Everything lives here so the main window only creates one :class:`ProjectActions`. Without an
open project runs go under the engine's ``files.runs_root()`` and are recorded in a history
there, listed in the Runs tab; File → New project can move them into the new project.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QSettings, QStandardPaths, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu, QMessageBox

from studio.config import ProjectConfig
from studio.config.io import (
    Project,
    guess_relocation,
    is_project,
    load_project,
    relocate,
    save_project,
)
from studio.engine.events import RunStatus
from studio.engine.runs import files
from studio.engine.runs.store import RunStore, move_run
from studio.errors import StudioError
from studio.qt.later import deferred
from studio.qt.new_project_dialog import NewProjectDialog
from studio.qt.panels.runs import RunsPanel

AUTOSAVE_MS = 1500
MAX_RECENT = 8
TITLE = "Studio — image classifier training"


def app_settings() -> QSettings:
    """Studio's settings: ``$STUDIO_HOME/settings.ini`` when set (tests), else the user's."""
    home = os.environ.get("STUDIO_HOME")
    if home:
        return QSettings(str(Path(home) / "settings.ini"), QSettings.Format.IniFormat)
    if QStandardPaths.isTestModeEnabled():
        base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppConfigLocation)
        return QSettings(str(Path(base) / "settings.ini"), QSettings.Format.IniFormat)
    return QSettings("Studio", "Studio")


class ProjectActions(QObject):
    """The open project of one window. ``project_changed()`` fires after new/open/save-as;
    ``saved(Path)`` after each save (autosave included)."""

    project_changed = Signal()
    saved = Signal(Path)

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window: QMainWindow = window
        self.model = window.model
        self.folder: Path | None = None
        self.dirty = False
        self._store: RunStore | None = None
        self._shut = False
        self._loading = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(AUTOSAVE_MS)
        self._timer.timeout.connect(self.autosave_now)
        self.runs = RunsPanel(lambda: self.store, tasks=self.model.tasks)
        self.runs.loose = True  # no project yet: the runs made without one
        self.runs.refresh()
        self.runs.train_again_requested.connect(self.load_run_settings)
        self.runs.resume_requested.connect(window.resume_training)
        window.tabs.addTab(self.runs, "Runs")
        self._build_menu(window.menuBar().actions()[0].menu())
        self.model.config_changed.connect(self._edited)
        controller = window.controller  # the run's session records it; the tab shows it
        controller.run_started.connect(deferred(self.runs.refresh))
        controller.run_finished.connect(deferred(self.runs.refresh))
        self._update_title()

    # -- menu -----------------------------------------------------------------------------
    def _build_menu(self, menu: QMenu) -> None:
        first = menu.actions()[0] if menu.actions() else None
        w = self.window

        def action(text: str, slot, shortcut: Any = None, name: str = "") -> QAction:
            act = QAction(text, w)
            if shortcut is not None:
                act.setShortcut(QKeySequence(shortcut))
            act.setObjectName(name)
            act.triggered.connect(slot)
            return act

        self.new_action = action("&New project…", self.choose_new, "Ctrl+N", "newProjectAction")
        self.open_action = action(
            "&Open project…", self.choose_open, "Ctrl+Shift+O", "openProjectAction"
        )
        self.save_action = action("&Save project", self.save, "Ctrl+S", "saveProjectAction")
        self.save_as_action = action(
            "Save project &as…", self.choose_save_as, "Ctrl+Shift+S", "saveProjectAsAction"
        )
        self.recent_menu = QMenu("&Recent projects", w)
        self.recent_menu.setObjectName("recentProjectsMenu")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.autosave_action = action("A&utosave", self._autosave_toggled, None, "autosaveAction")
        self.autosave_action.setCheckable(True)
        self.autosave_action.setChecked(app_settings().value("autosave", True, type=bool))
        self.autosave_action.setToolTip("Save the project a moment after each change.")
        for act in (self.new_action, self.open_action, self.save_action, self.save_as_action):
            menu.insertAction(first, act)
        menu.insertMenu(first, self.recent_menu)
        menu.insertAction(first, self.autosave_action)
        menu.insertSeparator(first)
        self._fill_recent()

    def recent_projects(self) -> list[Path]:
        value = app_settings().value("recentProjects", [])
        items = [value] if isinstance(value, str) else list(value or [])
        return [Path(p) for p in items if p]

    def _remember(self, folder: Path) -> None:
        items = [str(folder), *(str(p) for p in self.recent_projects() if p != folder)]
        settings = app_settings()
        settings.setValue("recentProjects", items[:MAX_RECENT])
        settings.sync()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for folder in self.recent_projects():
            act = self.recent_menu.addAction(folder.name, lambda f=folder: self.open(f))
            act.setToolTip(str(folder))
            act.setEnabled(folder.is_dir())
        self.recent_menu.setEnabled(bool(self.recent_projects()))

    def _autosave_toggled(self, on: bool) -> None:
        settings = app_settings()
        settings.setValue("autosave", on)
        settings.sync()
        if on and self.dirty:
            self._timer.start()

    @property
    def autosave(self) -> bool:
        return self.autosave_action.isChecked()

    # -- dialogs (tests call the methods below them directly) -----------------------------
    def choose_new(self) -> None:
        """Ask for a name and a location, then :meth:`new`."""
        answer = self.ask_new_project()
        if answer is not None:
            folder, move_runs = answer
            settings = app_settings()
            settings.setValue("projectLocation", str(folder.parent))
            settings.sync()
            self.new(folder, move_runs=move_runs)

    def ask_new_project(self) -> tuple[Path, bool] | None:
        """The new project's folder and whether the runs made without a project move into
        it (:class:`NewProjectDialog`), or ``None``."""
        dialog = NewProjectDialog(self.window, self._project_location(), len(self.loose_runs()))
        if dialog.exec() != NewProjectDialog.DialogCode.Accepted:
            return None
        return dialog.folder(), dialog.move_runs.isChecked()

    def _project_location(self) -> Path:
        saved = app_settings().value("projectLocation", "", type=str)
        if saved:
            return Path(saved)
        documents = QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.DocumentsLocation
        )
        return Path(documents or Path.home()) / "Studio projects"

    def choose_open(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Open a Studio project folder")
        if folder:
            self.open(Path(folder))

    def choose_save_as(self) -> bool:
        folder = QFileDialog.getExistingDirectory(self.window, "Save the project in a folder")
        if not folder:
            return False
        target = Path(os.path.abspath(folder))
        if target != self.folder and is_project(target):
            answer = QMessageBox.question(
                self.window,
                "Replace project",
                f"{target.name} already holds a project. Replace its settings with these?",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        return self.save_as(target)

    def ask_relocation(self, missing: list[Path]) -> Path | None:
        """Where the missing image folders went (a folder dialog), or ``None``."""
        names = ", ".join(p.name for p in missing)
        QMessageBox.information(
            self.window,
            "Image folders moved",
            f"These image folders are not where the project expects them: {names}. "
            "Pick the folder they are in now.",
        )
        folder = QFileDialog.getExistingDirectory(self.window, f"Where is {missing[0].name} now?")
        return Path(folder) if folder else None

    def ask_unsaved(self) -> str:
        """``"save"``, ``"discard"`` or ``"cancel"``: what to do with unsaved changes."""
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self.window,
            "Unsaved changes",
            f"Save the changes to {self.name} before closing?",
            buttons.Save | buttons.Discard | buttons.Cancel,
            buttons.Save,
        )
        return {buttons.Save: "save", buttons.Discard: "discard"}.get(answer, "cancel")

    # -- project operations ---------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.folder.name if self.folder else "Untitled"

    @property
    def store(self) -> RunStore | None:
        """The run history shown: the open project's, else that of the runs made without a
        project (opened on first use; none once shut down)."""
        if self._store is None and not self._shut:
            try:
                self._store = RunStore(self.history_folder())
            except StudioError as exc:
                self.window.show_message(str(exc))
                return None
            if self._store.interrupted:
                count = len(self._store.interrupted)
                self.window.statusBar().showMessage(
                    f"{count} run{'s' if count > 1 else ''} ended unexpectedly last time and "
                    f"{'are' if count > 1 else 'is'} marked interrupted in the Runs tab."
                )
        return self._store

    def runs_folder(self) -> Path:
        """Where the window's runs go: ``<project>/runs``, else the engine's runs folder."""
        return self.folder / "runs" if self.folder else files.runs_root()

    def history_folder(self) -> Path:
        """Whose run history records the window's runs: the project's, else the runs folder's
        own (runs made without a project)."""
        return self.folder if self.folder else files.runs_root()

    def loose_runs(self) -> list[int]:
        """Ids of the runs made without a project that have ended (they can move)."""
        if self.folder is not None or self._shut:
            return []
        try:
            with RunStore(files.runs_root()) as store:
                return [r.id for r in store.runs() if r.status != RunStatus.RUNNING]
        except StudioError:
            return []

    def new(self, folder: Path, move_runs: bool = False) -> bool:
        """A new project in ``folder`` (made when missing) that keeps the loaded images and
        settings; ``move_runs`` moves the runs made without a project into it."""
        folder = Path(os.path.abspath(folder))
        if is_project(folder):
            self.window.show_message(
                f"{folder} already holds a project: use File → Open project to open it."
            )
            return False
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            self.window.show_message(
                f"{folder} is not empty: choose a new name or an empty folder for the project."
            )
            return False
        if not self._may_leave():
            return False
        loose = self.loose_runs() if move_runs else []
        if not self._switch(folder, self.model.config, save=True, keep_config=True):
            return False
        if loose:
            self._move_loose_runs(loose)
        if self.model.index is None:
            self.model.rescan()  # nothing scanned yet: the panels learn there is no data
        return True

    def _move_loose_runs(self, ids: list[int]) -> None:
        moved = 0
        try:
            with RunStore(files.runs_root()) as loose:
                target = self.store
                if target is None:
                    return
                for run_id in ids:
                    move_run(loose, run_id, target, self.runs_folder())
                    moved += 1
        except StudioError as exc:
            self.window.show_message(f"Moved {moved} of {len(ids)} runs: {exc}")
        self.runs.refresh()
        if moved:
            self.window.statusBar().showMessage(
                f"Moved {moved} run{'s' if moved > 1 else ''} into {self.name}."
            )

    def open(self, folder: Path) -> bool:
        """Open a project; a broken file shows one line and leaves the window as it was."""
        if not self._may_leave():
            return False
        try:
            project = load_project(folder)
        except StudioError as exc:
            self.window.show_message(f"Cannot open the project: {exc}")
            return False
        config, relocated = self._relocate(project)
        if not self._switch(project.folder, config, save=relocated):
            return False
        if project.migrated_from is not None:
            self.window.statusBar().showMessage(
                f"Updated the project file from an older Studio; the original is kept as "
                f"{project.backup.name if project.backup else 'a backup'}."
            )
        return True

    def _relocate(self, project: Project) -> tuple[ProjectConfig, bool]:
        missing = project.missing_sources()
        if not missing:
            return project.config, False
        new_home = self.ask_relocation(missing)
        if new_home is None:
            self.window.show_message(
                f"Image folder {missing[0]} is missing. Add it again when it is back."
            )
            return project.config, False
        return relocate(project.config, guess_relocation(missing, new_home)), True

    def reopen_last(self) -> bool:
        """At start-up: open the most recent project, if it is still there."""
        recent = [p for p in self.recent_projects() if p.is_dir()]
        return bool(recent) and self.folder is None and self.open(recent[0])

    def save(self) -> bool:
        """Save to the open project (asks for a folder when there is none)."""
        if self.folder is None:
            return self.choose_save_as()
        self._timer.stop()
        try:
            save_project(self.folder, self.model.config)
        except StudioError as exc:
            self.window.show_message(str(exc))
            return False
        self._set_dirty(False)
        self.saved.emit(self.folder)
        return True

    def save_as(self, folder: Path) -> bool:
        """Save the current settings as the project in ``folder`` and switch to it."""
        if self.window.controller.running:
            self.window.show_message("Stop training before switching projects.")
            return False
        return self._switch(folder, self.model.config, save=True, keep_config=True)

    def autosave_now(self) -> None:
        if self.folder is not None and self.dirty and self.autosave:
            self.save()

    def _switch(
        self, folder: Path, config: ProjectConfig, save: bool, keep_config: bool = False
    ) -> bool:
        folder = Path(os.path.abspath(folder))
        if save:
            try:
                save_project(folder, config)
            except StudioError as exc:
                self.window.show_message(str(exc))
                return False
        self._close_store()
        self.folder = folder
        if not keep_config:
            self.apply_config(config)
        self._set_dirty(False)
        self._remember(folder)
        self.runs.loose = False
        self.runs.refresh()
        self.model.project_changed.emit()  # every panel drops what it showed of the last one
        self.project_changed.emit()
        return True

    def apply_config(self, config: ProjectConfig) -> None:
        """Show ``config`` in every panel and rescan its image folders."""
        self._loading = True
        try:
            self.model.config = config.model_copy(deep=True)
            self.model.config_changed.emit()
        finally:
            self._loading = False
        self.model.rescan()

    def load_run_settings(self, config: dict[str, Any]) -> None:
        """ "Train again with these settings": a run's config becomes the project's."""
        if self.window.controller.running:
            return
        try:
            self.apply_config(ProjectConfig.model_validate(config))
        except ValueError as exc:
            self.window.show_message(f"That run's settings cannot be loaded: {exc}")
            return
        self._edited()
        self.window.tabs.setCurrentIndex(0)
        self.window.statusBar().showMessage("Settings of that run loaded: click Train.")

    # -- edits, title, closing ------------------------------------------------------------
    def _edited(self) -> None:
        if self._loading or self.folder is None:
            return
        self._set_dirty(True)
        if self.autosave:
            self._timer.start()  # debounced: a burst of edits saves once

    def _set_dirty(self, dirty: bool) -> None:
        self.dirty = dirty
        self._update_title()

    def _update_title(self) -> None:
        if self.folder is None:
            self.window.setWindowTitle(TITLE)
        else:
            self.window.setWindowTitle(f"{self.name}{'*' if self.dirty else ''} — Studio")
        self.window.setWindowModified(False)

    def _may_leave(self) -> bool:
        """Before another project replaces this one: not while training; changes saved or
        asked about."""
        if self.window.controller.running:
            self.window.show_message("Stop training before switching projects.")
            return False
        return self.may_close()

    def may_close(self) -> bool:
        """Whether the window may close; unsaved changes are saved (autosave) or asked about."""
        if self.folder is None or not self.dirty:
            return True
        if not self.autosave:
            decision = self.ask_unsaved()
            if decision != "save":
                return decision == "discard"
        self._timer.stop()
        try:
            save_project(self.folder, self.model.config)
        except StudioError as exc:  # read-only media, a full disk: never a window stuck open
            decision = self.ask_save_failed(str(exc))
            if decision == "save_as":
                return self.choose_save_as()
            return decision == "discard"
        self._set_dirty(False)
        self.saved.emit(self.folder)
        return True

    def ask_save_failed(self, reason: str) -> str:
        """Closing, the project could not be saved: ``"save_as"``, ``"discard"`` or
        ``"cancel"`` (asked once; the window closes unless the user cancels)."""
        buttons = QMessageBox.StandardButton
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Cannot save the project",
            f"{reason}\n\nSave the project in another folder, or close without saving?",
            buttons.Save | buttons.Discard | buttons.Cancel,
            self.window,
        )
        box.button(buttons.Save).setText("Save As…")
        box.button(buttons.Discard).setText("Close without saving")
        box.setDefaultButton(buttons.Save)
        answer = box.exec()
        return {buttons.Save: "save_as", buttons.Discard: "discard"}.get(answer, "cancel")

    def shutdown(self) -> None:
        """The window is closing: no more autosaves, the history closed."""
        self._shut = True
        self._timer.stop()
        self._close_store()

    def _close_store(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
