"""File → New project…: a name and a location (the project folder is made there), and
whether the runs made without a project move into it. The loaded data and settings stay."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

BAD_CHARACTERS = set('/\\:*?"<>|')


def problem(name: str, location: str) -> str:
    """Why a project cannot be made from ``name`` in ``location``, or ``""``."""
    name = name.strip()
    if not name:
        return "Give the project a name."
    if set(name) & BAD_CHARACTERS or name in (".", ".."):
        return 'A name cannot hold / \\ : * ? " < > |.'
    if not location.strip():
        return "Choose where to keep the project."
    folder = Path(location).expanduser() / name
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        return f"{folder} already exists and is not empty: choose another name."
    return ""


class NewProjectDialog(QDialog):
    """Asks for the new project's name and location; :meth:`folder` is the folder to make."""

    def __init__(self, parent: QWidget | None, location: Path, loose_runs: int = 0) -> None:
        super().__init__(parent)
        self.setObjectName("newProjectDialog")
        self.setWindowTitle("New project")
        self.name = QLineEdit("My classifier", objectName="projectNameInput")
        self.name.selectAll()
        self.location = QLineEdit(str(location), objectName="projectLocationInput")
        browse = QPushButton("Browse…", objectName="projectLocationButton")
        browse.clicked.connect(self._browse)
        where = QHBoxLayout()
        where.addWidget(self.location, 1)
        where.addWidget(browse)
        self.preview = QLabel(objectName="projectFolderPreview")
        self.preview.setWordWrap(True)
        self.keep_note = QLabel(
            "The images and settings you have loaded now become the new project's."
        )
        self.keep_note.setWordWrap(True)
        self.move_runs = QCheckBox(
            f"Move the {loose_runs} run{'s' if loose_runs != 1 else ''} made without a "
            "project into it",
            objectName="moveRunsCheck",
        )
        self.move_runs.setChecked(loose_runs > 0)
        self.move_runs.setVisible(loose_runs > 0)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Location", where)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.preview)
        layout.addWidget(self.keep_note)
        layout.addWidget(self.move_runs)
        layout.addWidget(self.buttons)
        self.name.textChanged.connect(self._check)
        self.location.textChanged.connect(self._check)
        self.setMinimumWidth(460)
        self._check()

    def folder(self) -> Path:
        return Path(self.location.text()).expanduser() / self.name.text().strip()

    def _check(self) -> None:
        why = problem(self.name.text(), self.location.text())
        self.preview.setText(why or f"Creates the folder {self.folder()}")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not why)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Where to keep the project")
        if folder:
            self.location.setText(folder)
