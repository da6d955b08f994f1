"""The Runs tab: the open project's run history as a sortable, filterable table.

Rename and annotate in place (double-click the name or notes), delete a run with its files,
open its folder, train again with its settings, and compare 2–5 runs (curves and settings).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.engine.events import RunStatus
from studio.engine.runs.store import RunRecord, RunStore
from studio.qt.panels.run_compare import RunCompareView

COLUMNS = ["Name", "Status", "Started", "Duration", "Best epoch", "Val acc", "Model", "Notes"]
NAME, STATUS, STARTED, DURATION, BEST, ACC, MODEL, NOTES = range(len(COLUMNS))
ELIDED = (NAME, MODEL, NOTES)  # the columns that shrink (elided) when the table is narrow
ELIDED_MIN = 64  # the narrowest they shrink to, in pixels (or their heading's width)
HEADING_PADDING = 16  # a heading's margins, in pixels
ID_ROLE = Qt.ItemDataRole.UserRole
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
RESUME_TIP = (
    "Continue a stopped, failed or interrupted run from its last checkpoint, exactly where it "
    "left off."
)


class _Item(QTableWidgetItem):
    """Sorts by the value kept under ``SORT_ROLE`` (numbers, times) when there is one."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if mine is not None and theirs is not None:
            return (mine, self.data(ID_ROLE)) < (theirs, other.data(ID_ROLE))  # ties: by id
        return self.text().lower() < other.text().lower()


class RunsPanel(QWidget):
    """``train_again_requested(dict)`` carries the chosen run's config."""

    train_again_requested = Signal(object)
    resume_requested = Signal(object)  # the run folder to continue
    results_requested = Signal(object)  # the run folder to show in the Results tab

    def __init__(
        self,
        store: Callable[[], RunStore | None],
        parent: QWidget | None = None,
        tasks: Any = None,
    ):
        super().__init__(parent)
        self.setObjectName("runsPanel")
        self._store = store
        self.records: dict[int, RunRecord] = {}
        self._filling = False
        self.loose = False  # the store holds the runs made without a project
        self.hint = QLabel()
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        self.filter = QLineEdit(objectName="runsFilter", placeholderText="Filter runs…")
        self.filter.textChanged.connect(self._apply_filter)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("runsTable")
        self.table.setAccessibleName("Runs")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.verticalHeader().hide()
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setWordWrap(False)  # long names elide on one line
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)  # fitted: _fit_columns
        header.setStretchLastSection(True)  # the notes take what is left
        header.setSortIndicator(STARTED, Qt.SortOrder.DescendingOrder)  # newest first
        header.sortIndicatorChanged.connect(lambda *_: self._fit_columns())
        self.table.setSortingEnabled(True)
        self.table.viewport().installEventFilter(self)
        self.table.itemChanged.connect(self._item_changed)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for key, text, tip, slot in (
            (
                "open",
                "Open results",
                "Show the run's results (metrics, mistakes, export) in the Results tab.",
                self.open,
            ),
            (
                "again",
                "Train again with these settings",
                "Load the run's settings into the project.",
                self.train_again,
            ),
            ("resume", "Resume", RESUME_TIP, self.resume),
            ("compare", "Compare", "Select 2–5 runs to overlay their curves.", self.compare),
            ("delete", "Delete…", "Delete the run and its files, after asking.", self.delete),
        ):
            button = QPushButton(text, objectName=f"runs{key.title()}Button", toolTip=tip)
            if slot is not None:
                button.clicked.connect(slot)
            row.addWidget(button)
            self.buttons[key] = button
        row.addStretch(1)
        self.comparison = RunCompareView(tasks=tasks)
        self.comparison.hide()
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.hint)
        top_layout.addWidget(self.filter)
        top_layout.addWidget(self.table, 1)
        top_layout.addLayout(row)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(self.comparison)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.refresh()

    # -- filling ------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload the table from the store (keeps the sort order and filter)."""
        store = self._store()
        records = store.runs() if store is not None else []
        self.records = {r.id: r for r in records}
        if store is None:
            self.hint.setText("The run history cannot be opened.")
        elif self.loose:
            self.hint.setText(
                f"Runs made without a project, kept in {store.folder}. File → New project… "
                "can move them into a project, where they are kept with its settings."
            )
        self.hint.setVisible(store is None or self.loose)
        self._filling = True
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(records))
        for row, record in enumerate(records):
            for column, (text, key) in enumerate(_cells(record)):
                item = _Item(text)
                item.setData(ID_ROLE, record.id)
                item.setData(SORT_ROLE, key)
                editable = column in (NAME, NOTES)
                flags = item.flags()
                if not editable:
                    flags &= ~Qt.ItemFlag.ItemIsEditable
                item.setFlags(flags)
                if column == STATUS and record.status == RunStatus.INTERRUPTED:
                    item.setToolTip(record.message or "The process ended during training.")
                elif column == STARTED:
                    item.setToolTip(f"{datetime.fromtimestamp(record.started_at):%c}")
                elif column in ELIDED:
                    item.setToolTip(text)  # in full when the column is too narrow
                self.table.setItem(row, column, item)
        self.table.setSortingEnabled(True)
        self._filling = False
        self._apply_filter(self.filter.text())
        self._fit_columns()
        self._selection_changed()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_columns()  # the table's own width, once laid out (scroll bars too)
        return super().eventFilter(watched, event)

    def _fit_columns(self) -> None:
        """Each column as wide as its contents; where they would overflow the table, the
        name, model and notes columns give up the room (elided, in full on hover), so the
        table never scrolls sideways unless even their headings do not fit."""
        header = self.table.horizontalHeader()
        wanted = [
            max(self.table.sizeHintForColumn(c), self._heading_width(c))
            for c in range(len(COLUMNS))
        ]
        floors = {c: min(wanted[c], max(self._heading_width(c), ELIDED_MIN)) for c in ELIDED}
        over = sum(wanted) - self.table.viewport().width()
        spare = sum(wanted[c] - floors[c] for c in ELIDED)
        if over > 0 and spare > 0:
            share = min(1.0, over / spare)
            for c in ELIDED:
                wanted[c] -= round((wanted[c] - floors[c]) * share)
        for column, width in enumerate(wanted):
            header.resizeSection(column, width)

    def _heading_width(self, column: int) -> int:
        """Room for a column's heading; the sort arrow only where it is drawn (Qt's size
        hint keeps room for it in every column)."""
        header = self.table.horizontalHeader()
        if column == header.sortIndicatorSection():
            return header.sectionSizeHint(column)
        return header.fontMetrics().horizontalAdvance(COLUMNS[column]) + HEADING_PADDING

    def _apply_filter(self, text: str) -> None:
        words = text.lower().split()
        for row in range(self.table.rowCount()):
            line = " ".join(
                self.table.item(row, c).text().lower() for c in range(self.table.columnCount())
            )
            self.table.setRowHidden(row, not all(w in line for w in words))

    # -- selection ----------------------------------------------------------------------
    def selected(self) -> list[RunRecord]:
        """The selected runs, in table order."""
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        ids = [self.table.item(r, NAME).data(ID_ROLE) for r in rows]
        return [self.records[i] for i in ids if i in self.records]

    def select_ids(self, ids: list[int]) -> None:
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for row in range(self.table.rowCount()):
            if self.table.item(row, NAME).data(ID_ROLE) in ids:
                self.table.selectRow(row)
        self.table.setSelectionMode(mode)

    def _selection_changed(self) -> None:
        chosen = self.selected()
        one = len(chosen) == 1
        self.buttons["open"].setEnabled(one and bool(chosen[0].run_dir))
        self.buttons["again"].setEnabled(one)
        self.buttons["delete"].setEnabled(bool(chosen))
        self.buttons["compare"].setEnabled(2 <= len(chosen) <= 5)
        self.buttons["resume"].setEnabled(one and chosen[0].resumable)

    def resume(self) -> None:
        chosen = self.selected()
        if len(chosen) == 1 and chosen[0].resumable:
            self.resume_requested.emit(Path(chosen[0].run_dir))

    # -- actions ------------------------------------------------------------------------
    def _item_changed(self, item: QTableWidgetItem) -> None:
        store = self._store()
        if self._filling or store is None:
            return
        run_id = item.data(ID_ROLE)
        if item.column() == NAME:
            store.rename(run_id, item.text())
        elif item.column() == NOTES:
            store.annotate(run_id, item.text())
        self._filling = True
        item.setToolTip(item.text())
        self._filling = False
        record = store.get(run_id)
        if record is not None:
            self.records[run_id] = record

    def rename(self, run_id: int, name: str) -> None:
        self._edit(run_id, NAME, name)

    def annotate(self, run_id: int, notes: str) -> None:
        self._edit(run_id, NOTES, notes)

    def _edit(self, run_id: int, column: int, text: str) -> None:
        for row in range(self.table.rowCount()):
            item = self.table.item(row, column)
            if item.data(ID_ROLE) == run_id:
                item.setText(text)  # itemChanged writes it to the store

    def open(self) -> None:
        chosen = self.selected()
        if len(chosen) == 1 and chosen[0].run_dir:
            self.results_requested.emit(Path(chosen[0].run_dir))

    def train_again(self) -> None:
        chosen = self.selected()
        if len(chosen) == 1:
            self.train_again_requested.emit(chosen[0].config)

    def confirm_delete(self, records: list[RunRecord]) -> bool:
        """Ask before deleting (tests replace this)."""
        names = ", ".join(r.name for r in records[:5]) + ("…" if len(records) > 5 else "")
        answer = QMessageBox.question(
            self,
            "Delete runs",
            f"Delete {names} and their files (weights, events)? This cannot be undone.",
        )
        return answer == QMessageBox.StandardButton.Yes

    def delete(self) -> None:
        store = self._store()
        chosen = self.selected()
        if store is None or not chosen or not self.confirm_delete(chosen):
            return
        for record in chosen:
            store.delete(record.id, with_files=True)
        self.comparison.hide()
        self.refresh()

    def compare(self) -> None:
        store = self._store()
        chosen = self.selected()
        if store is None or not 2 <= len(chosen) <= 5:
            return
        self.comparison.show_runs(chosen, {r.id: store.epochs(r.id) for r in chosen})
        self.comparison.show()


def _cells(r: RunRecord) -> list[tuple[str, Any]]:
    started = datetime.fromtimestamp(r.started_at)
    acc = r.best_metrics.get("val_acc")
    return [
        (r.name, None),
        (r.status, None),
        (_when(started), r.started_at),
        (_duration(r.duration), r.duration if r.duration is not None else -1.0),
        (str(r.best_epoch) if r.best_epoch else "–", r.best_epoch or 0),
        (f"{acc:.1%}" if acc is not None else "–", acc if acc is not None else -1.0),
        (r.model, None),
        (r.notes, None),
    ]


def _when(started: datetime) -> str:
    """A short start time: the time today, the day and time this year, else the date."""
    now = datetime.now()
    if started.date() == now.date():
        return f"today {started:%H:%M}"
    if started.year == now.year:
        return f"{started:%b} {started.day} {started:%H:%M}"
    return f"{started:%Y-%m-%d}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
