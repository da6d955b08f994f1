"""What the settings resolver chose and why: one line per derived setting under the model
picker, and a table of every resolved setting with its reason."""

from __future__ import annotations

import html

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.engine.training.resolve import KEPT_AS_IS, Resolution
from studio.qt.later import deferred
from studio.qt.project_model import ProjectModel

DECIDED_BY = {"user": "you", "derived": "Studio", "lowered": "the machine"}


def with_reason(help_text: str, resolution: Resolution, name: str) -> str:
    """A control's tooltip: its help, then how its value was decided."""
    setting = resolution.settings.get(name)
    if setting is None or setting.source == "user":
        return help_text
    return f"{help_text}<br><br><i>{html.escape(setting.reason)}</i>"


def _left_alone(name: str, reason: str) -> bool:
    """An augmentation step Studio kept as the preset has it: not worth a line here."""
    return name.startswith("augment.") and reason.partition(": ")[2].startswith(KEPT_AS_IS)


class ResolvedSettings(QWidget):
    """``resolvedSettings`` lists what Studio derived; ``resolvedDetailsButton`` opens the
    table of every resolved setting (``resolvedTable``), where a setting the user chose can
    be handed back to Studio."""

    def __init__(self, model: ProjectModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.label = QLabel()
        self.label.setObjectName("resolvedSettings")
        self.label.setAccessibleName("Settings Studio chose")
        self.label.setWordWrap(True)
        self.details = QPushButton("Why these settings?")
        self.details.setObjectName("resolvedDetailsButton")
        self.details.setToolTip("Every setting Studio decides, who decided it, and why.")
        self.details.clicked.connect(self.show_details)
        self.dialog: QDialog | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.details)
        layout.addLayout(row)
        model.config_changed.connect(deferred(self.refresh))
        model.machine_detected.connect(deferred(self.refresh))
        self.refresh()

    def refresh(self) -> None:
        resolution = self.model.resolution
        lines = [
            html.escape(s.reason[:1].upper() + s.reason[1:])
            for name, s in resolution.settings.items()
            if s.source != "user" and not _left_alone(name, s.reason)
        ]
        self.label.setText(
            "<b>Studio chose</b> (a value you set always wins):<br>" + "<br>".join(lines)
        )
        self.label.setVisible(bool(lines))
        if self.dialog is not None:
            self._fill(self.dialog.findChild(QTableWidget, "resolvedTable"))

    def show_details(self) -> None:
        if self.dialog is None:
            self.dialog = QDialog(self)
            self.dialog.setObjectName("resolvedDialog")
            self.dialog.setWindowTitle("How the settings were chosen")
            self.dialog.resize(760, 300)
            table = QTableWidget(0, 4)
            table.setObjectName("resolvedTable")
            table.setHorizontalHeaderLabels(["Setting", "Value", "Decided by", "Why"])
            table.verticalHeader().hide()
            table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            table.horizontalHeader().setStretchLastSection(True)
            buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
            buttons.rejected.connect(self.dialog.close)
            layout = QVBoxLayout(self.dialog)
            layout.addWidget(table)
            layout.addWidget(buttons)
            self._fill(table)
        self.dialog.show()

    def _fill(self, table: QTableWidget) -> None:
        settings = self.model.resolution.settings
        table.setRowCount(len(settings))
        for row, (name, setting) in enumerate(settings.items()):
            why = setting.reason.partition(": ")[2]
            for column, text in enumerate((name, str(setting.value), DECIDED_BY[setting.source])):
                table.setItem(row, column, QTableWidgetItem(text))
            if setting.source == "user":
                button = QPushButton("Let Studio choose")
                button.setObjectName(f"derive:{name}")
                button.setToolTip(f"Drop your value of {name}: Studio derives it again.")
                button.clicked.connect(lambda _=False, n=name: self.model.use_derived(n))
                table.setCellWidget(row, 3, button)
            else:
                table.removeCellWidget(row, 3)
                table.setItem(row, 3, QTableWidgetItem(why))
