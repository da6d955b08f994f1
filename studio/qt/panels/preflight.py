"""The pre-flight check button in the training settings: seconds of checks on a worker, with
progress and cancel, before a long run (see :mod:`studio.engine.training.preflight`)."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from studio.qt.project_model import ProjectModel
from studio.qt.steady import ProgressBar


class PreflightPanel(QWidget):
    """``preflightButton`` starts the check on the settings a run would use;
    ``preflightCancelButton`` stops it; ``preflightProgress`` counts the checks and
    ``preflightResult`` lists them, each failure with its cause and fix. ``checked(report)``
    fires on the GUI thread with the ``PreflightReport``."""

    checked = Signal(object)
    _step = Signal(object)

    def __init__(self, model: ProjectModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from studio.engine.training.preflight import CHECKS

        self.model = model
        self._token: Any = None
        self.button = QPushButton("Pre-flight check")
        self.button.setObjectName("preflightButton")
        self.button.setToolTip(
            "Seconds of checks before a long run: the loss at the start, that one batch can "
            "be learnt, that real labels beat shuffled ones, that augmented images keep their "
            "class, and that the learning rate is usable."
        )
        self.button.clicked.connect(self.start)
        self.cancel = QPushButton("Cancel")
        self.cancel.setObjectName("preflightCancelButton")
        self.cancel.hide()
        self.cancel.clicked.connect(self.stop)
        self.progress = ProgressBar()
        self.progress.setObjectName("preflightProgress")
        self.progress.setRange(0, len(CHECKS))
        self.progress.hide()
        self.result = QLabel()
        self.result.setObjectName("preflightResult")
        self.result.setWordWrap(True)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.button)
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.result)
        self._step.connect(self._stepped)

    def start(self) -> None:
        if not self.model.has_data:
            self.result.setText("Add images first: the check trains briefly on them.")
            return
        from studio.engine.control import StopToken

        config = self.model.resolution.config
        token = self._token = StopToken()
        self.button.setEnabled(False)
        self.cancel.show()
        self.progress.setValue(0)
        self.progress.show()
        self.result.setText("Checking the pipeline…")

        def work():
            from studio.engine.training.preflight import preflight

            return preflight(config, token, self._step.emit)

        self.model.tasks.start(work, self._done, self._failed, stop=token.stop)

    def stop(self) -> None:
        if self._token is not None:
            self._token.stop()

    def _stepped(self, event: Any) -> None:
        if event.passed is not None:
            self.progress.setValue(event.done)

    def _end(self) -> None:
        self._token = None
        self.button.setEnabled(True)
        self.cancel.hide()
        self.progress.hide()

    def _done(self, report: Any) -> None:
        from studio.engine.training.preflight import TITLES

        self._end()
        lines = []
        for r in report.results:
            mark = "✔" if r.passed else "✘"
            text = f"{mark} <b>{html.escape(TITLES[r.name])}</b>: {html.escape(r.measured)}"
            if not r.passed:
                text += f"<br>&nbsp;&nbsp;→ {html.escape(r.fix)}"
            lines.append(text)
        verdict = "All checks passed" if report.passed else "Some checks failed"
        self.result.setText(f"{verdict} ({report.seconds:.0f} s):<br>" + "<br>".join(lines))
        self.checked.emit(report)

    def _failed(self, exc: Exception) -> None:
        from studio.engine.training.steps import Stopped

        self._end()
        cancelled = isinstance(exc, Stopped)
        self.result.setText("Pre-flight check cancelled." if cancelled else f"Check failed: {exc}")
