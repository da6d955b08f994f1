"""The window's keyboard shortcuts, in one table that also fills Help → Keyboard shortcuts.

Each row names a menu action (by ``objectName``), its label in the sheet and its keys; the
first key is the one menus show. :func:`install` names the window's existing actions, adds
the missing ones (pause, next and previous tab) and assigns the keys.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

SHORTCUTS: tuple[tuple[str, str, tuple[Any, ...]], ...] = (
    ("newProjectAction", "New project", ("Ctrl+N",)),
    ("openProjectAction", "Open a project", ("Ctrl+Shift+O",)),
    ("saveProjectAction", "Save the project", ("Ctrl+S",)),
    ("addFolderAction", "Add a folder of images", ("Ctrl+O",)),
    ("trainAction", "Train", ("Ctrl+Return", "Ctrl+Enter")),
    ("pauseAction", "Pause or continue training", ("Ctrl+P",)),
    ("stopAction", "Stop training (the best model so far is kept)", ("Ctrl+.",)),
    ("nextTabAction", "Next tab", ("Ctrl+Tab", "Ctrl+PgDown")),
    ("previousTabAction", "Previous tab", ("Ctrl+Shift+Tab", "Ctrl+PgUp")),
    ("glossaryAction", "Glossary: the entry of the setting in focus or under the mouse", ("F1",)),
    ("shortcutsAction", "This list of shortcuts", ("Ctrl+/",)),
    ("quitAction", "Quit", ("Ctrl+Q",)),
)


def _action(menu: QMenu, text: str) -> QAction:
    return next(a for a in menu.actions() if a.text() == text)


def install(window: Any, menus: dict[str, QMenu]) -> None:
    """Name the window's actions, add pause and tab switching, and assign every key."""
    for menu, text, name in (
        ("&File", "&Add folder…", "addFolderAction"),
        ("&File", "&Quit", "quitAction"),
        ("&Train", "&Train", "trainAction"),
        ("&Train", "&Stop", "stopAction"),
    ):
        _action(menus[menu], text).setObjectName(name)
    window.train_button.setShortcut(QKeySequence())  # the Train action owns Ctrl+Return now

    train = menus["&Train"]
    pause = QAction("&Pause / Continue", window)
    pause.setObjectName("pauseAction")
    pause.triggered.connect(lambda: window.pause_button.isEnabled() and window.pause_button.click())
    train.insertAction(_action(train, "&Stop"), pause)

    view = menus["&View"]
    view.addSeparator()
    tabs = window.tabs
    for name, text, step in (
        ("nextTabAction", "&Next tab", 1),
        ("previousTabAction", "&Previous tab", -1),
    ):
        action = QAction(text, window)
        action.setObjectName(name)
        action.triggered.connect(
            lambda _on=False, step=step: tabs.setCurrentIndex(
                (tabs.currentIndex() + step) % tabs.count()
            )
        )
        view.addAction(action)

    for name, _label, keys in SHORTCUTS:
        action = window.findChild(QAction, name)
        action.setShortcuts([QKeySequence(k) for k in keys])


def rows(window: Any) -> list[tuple[str, str]]:
    """(what it does, its keys) for the sheet, as this platform writes the keys."""
    out = []
    for name, label, _keys in SHORTCUTS:
        action = window.findChild(QAction, name)
        native = QKeySequence.SequenceFormat.NativeText
        out.append((label, "  or  ".join(k.toString(native) for k in action.shortcuts())))
    return out
