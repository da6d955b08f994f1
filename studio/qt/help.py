"""The Help menu: the glossary (F1 opens the entry of the setting under the mouse or in focus),
the keyboard shortcuts sheet, the tour and About. :func:`install` wires it into the window,
with View → Appearance and the shortcuts of :mod:`studio.qt.shortcuts`.
"""

from __future__ import annotations

import html
import re
from typing import Any

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCursor
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from studio import __version__
from studio.qt import shortcuts
from studio.qt.glossary import TERMS
from studio.qt.theme import add_appearance_menu
from studio.qt.tour import Tour

_LINK = re.compile(r"\[\[(\w+)(?:\|([^\]]+))?\]\]")
_TOOLTIP_TERM = re.compile(r'href="glossary:(\w+)"')


def entry_html(key: str) -> str:
    """One glossary entry as HTML; ``[[key]]`` links become links to other entries."""
    term = TERMS[key]

    def link(match: re.Match) -> str:
        target, label = match.group(1), match.group(2)
        return f'<a href="#{target}">{label or TERMS[target].title.lower()}</a>'

    return f"<h2>{html.escape(term.title)}</h2><p>{_LINK.sub(link, term.text)}</p>"


class GlossaryDialog(QDialog):
    """Help → Glossary: the terms on the left (filterable), the entry on the right."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("glossaryDialog")
        self.setWindowTitle("Glossary — Studio")
        self.resize(720, 460)
        self.term = ""
        self.search = QLineEdit(placeholderText="Find a word…")
        self.search.setObjectName("glossarySearch")
        self.search.setAccessibleName("Find a glossary word")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        self.list = QListWidget()
        self.list.setObjectName("glossaryList")
        self.list.setAccessibleName("Glossary words")
        for key, term in sorted(TERMS.items(), key=lambda kv: kv[1].title.lower()):
            item = QListWidgetItem(term.title)
            item.setData(Qt.ItemDataRole.UserRole, key)
            self.list.addItem(item)
        self.list.currentItemChanged.connect(
            lambda item, _old: item and self.show_term(item.data(Qt.ItemDataRole.UserRole))
        )
        self.text = QTextBrowser()
        self.text.setObjectName("glossaryText")
        self.text.setAccessibleName("Glossary entry")
        self.text.setOpenLinks(False)
        self.text.anchorClicked.connect(lambda url: self.show_term(url.fragment()))
        left = QVBoxLayout()
        left.addWidget(self.search)
        left.addWidget(self.list, 1)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addWidget(self.text, 2)
        self.show_term("learning_rate")

    def show_term(self, key: str) -> None:
        if key not in TERMS:
            return
        self.term = key
        self.text.setHtml(entry_html(key))
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == key:
                self.list.blockSignals(True)
                self.list.setCurrentItem(item)
                self.list.blockSignals(False)

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        for row in range(self.list.count()):
            item = self.list.item(row)
            key = item.data(Qt.ItemDataRole.UserRole)
            found = needle in TERMS[key].title.lower() or needle in TERMS[key].text.lower()
            item.setHidden(not found)


class ShortcutsDialog(QDialog):
    """Help → Keyboard shortcuts: every shortcut of the window, as this platform writes it."""

    def __init__(self, parent: QWidget, rows: list[tuple[str, str]]) -> None:
        super().__init__(parent)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle("Keyboard shortcuts — Studio")
        self.table = QTableWidget(len(rows), 2)
        self.table.setObjectName("shortcutsTable")
        self.table.setAccessibleName("Keyboard shortcuts")
        self.table.setHorizontalHeaderLabels(["Action", "Shortcut"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, (label, keys) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(label))
            self.table.setItem(row, 1, QTableWidgetItem(keys))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        rows_height = self.table.verticalHeader().length() + self.table.horizontalHeader().height()
        self.resize(self.fontMetrics().averageCharWidth() * 100, rows_height + 40)


def term_near_pointer_or_focus() -> str | None:
    """The glossary entry of the setting whose tooltip shows, else of the focused one."""
    widgets = [QApplication.focusWidget()]
    hovered = QApplication.widgetAt(QCursor.pos())
    widgets.insert(0 if QToolTip.isVisible() else 1, hovered)
    for widget in widgets:
        while widget is not None:
            found = _TOOLTIP_TERM.search(widget.toolTip())
            if found and found.group(1) in TERMS:
                return found.group(1)
            widget = widget.parentWidget()
    return None


class Help:
    """The Help menu of one window and the dialogs it opens (kept, so they reopen as left)."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self.glossary: GlossaryDialog | None = None
        self.sheet: ShortcutsDialog | None = None
        self.tour = Tour(window)
        menus = {a.text(): a.menu() for a in window.menuBar().actions() if a.menu()}
        add_appearance_menu(menus["&View"])
        menu = window.menuBar().addMenu("&Help")
        menu.setObjectName("helpMenu")
        items = (
            ("&Glossary…", "glossaryAction", self.open_glossary_here),
            ("&Keyboard shortcuts", "shortcutsAction", self.open_shortcuts),
            ("Take the &tour", "tourAction", lambda: self.tour.start(0)),
            ("&About Studio", "aboutAction", self.about),
        )
        for text, name, slot in items:
            action = QAction(text, window)
            action.setObjectName(name)
            action.triggered.connect(slot)
            menu.addAction(action)
        shortcuts.install(window, menus)

    def open_glossary(self, key: str | None = None) -> GlossaryDialog:
        if self.glossary is None:
            self.glossary = GlossaryDialog(self.window)
        if key:
            self.glossary.show_term(key)
        self.glossary.show()
        self.glossary.raise_()
        self.glossary.activateWindow()
        return self.glossary

    def open_glossary_here(self) -> None:
        self.open_glossary(term_near_pointer_or_focus())

    def open_shortcuts(self) -> None:
        if self.sheet is None:
            self.sheet = ShortcutsDialog(self.window, shortcuts.rows(self.window))
        self.sheet.show()
        self.sheet.raise_()

    def about(self) -> None:
        QMessageBox.about(
            self.window,
            "About Studio",
            f"<h3>Studio {__version__}</h3><p>A desktop training studio for image "
            f"classification.</p><p>PySide6 {pyside_version}. Press F1 on any setting for "
            "its glossary entry.</p>",
        )


def install(window: Any) -> Help:
    """Add Help, View → Appearance and the shortcuts to ``window`` (after its menus exist)."""
    return Help(window)
