"""The Results tab's "Will more data help?" view: per-class learning curves of a run's data.

The curves (:mod:`studio.engine.results.learning_curve`) are computed on a worker thread
with a stop token, progress streamed as events; each class gets its accuracy at 25/50/75/100 %
of the training images and a plain verdict (data-limited or saturated).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.qt.panels.results_views import named
from studio.qt.project_model import ProjectModel

LIMITED = QColor(249, 115, 22, 60)


class LearningCurveView(QWidget):
    """``computed(curve)`` when the curves are ready, ``failed(message)`` otherwise."""

    computed = Signal(object)
    failed = Signal(str)
    progressed = Signal(object)

    def __init__(self, model: ProjectModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, "learningCurveView", "Will more data help?")
        self.model = model
        self.run_dir: Path | None = None
        self.config: Any = None
        self.curve: Any = None
        self._token: Any = None
        self._generation = 0
        self.button = named(
            QPushButton("Will more data help?"), "learningCurveButton", "Learning curves"
        )
        self.button.setToolTip(
            "Train quick models on 25, 50, 75 and 100 % of the training images and see, per "
            "class, whether accuracy still climbs (more images would help) or has levelled off."
        )
        self.button.clicked.connect(lambda: self.compute())
        self.cancel_button = named(QPushButton("Cancel"), "cancelLearningCurveButton", "Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        self.progress = named(QProgressBar(), "learningCurveProgress", "Learning curve progress")
        self.progress.setTextVisible(False)
        self.summary = named(QLabel(), "learningCurveSummary", "Learning curve verdict")
        self.summary.setWordWrap(True)
        self.table = named(QTableWidget(0, 0), "learningCurveTable", "Learning curves per class")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.hide()
        row = QHBoxLayout()
        row.addWidget(self.button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.summary)
        layout.addWidget(self.table)
        self.progressed.connect(self._show_progress)
        self.set_run(None, None)

    def set_run(self, run_dir: Path | None, config: Any) -> None:
        """The run whose data the curves are about (``None``: nothing to compute)."""
        self.cancel()
        self._generation += 1
        self.run_dir, self.config, self.curve = run_dir, config, None
        self.table.hide()
        self.summary.clear()
        self.button.setEnabled(config is not None)

    def compute(self, quick: Any = None) -> None:
        if self.config is None or self._token is not None:
            return
        from studio.engine.control import StopToken

        self._generation += 1
        generation = self._generation
        token = self._token = StopToken()
        config, cache = self.config, self.run_dir
        self.button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.summary.setText("Training quick models on growing shares of the images…")

        def job() -> Any:
            from studio.engine.results.learning_curve import learning_curve

            return learning_curve(config, token, self.progressed.emit, cache, quick)

        def done(curve: Any) -> None:
            self._finish(generation)
            if generation != self._generation:
                return
            self.curve = curve
            self._show(curve)
            self.computed.emit(curve)

        def failed(exc: Exception) -> None:
            self._finish(generation)
            message = str(exc) or type(exc).__name__
            if generation == self._generation:
                self.summary.setText(message)
            self.failed.emit(message)

        self.model.tasks.start(job, done, failed, token.stop)

    def cancel(self) -> None:
        if self._token is not None:
            self._token.stop()

    def _finish(self, generation: int) -> None:
        if generation == self._generation:
            self._token = None
            self.button.setEnabled(self.config is not None)
            self.cancel_button.setEnabled(False)
            self.progress.setRange(0, 1)
            self.progress.setValue(1)

    def _show_progress(self, event: Any) -> None:
        if self._token is not None and hasattr(event, "stage"):
            self.progress.setRange(0, max(1, event.total))
            self.progress.setValue(event.done)
            self.summary.setText(f"{event.stage}…")

    def _show(self, curve: Any) -> None:
        self.summary.setText(
            f"{curve.summary()} (quick models: {curve.method}; {curve.seconds:.1f} s)"
        )
        shares = [f"{f:.0%} of images" for f in curve.fractions]
        self.table.clear()
        self.table.setColumnCount(len(shares) + 1)
        self.table.setHorizontalHeaderLabels([*shares, "Verdict"])
        self.table.setRowCount(len(curve.classes) + 1)
        self.table.setVerticalHeaderLabels(["all classes", *(c.name for c in curve.classes)])
        for col, (acc, n) in enumerate(zip(curve.overall, curve.train_images, strict=True)):
            self.table.setItem(0, col, _cell(f"{acc:.1%} ({n})"))
        for row, c in enumerate(curve.classes, start=1):
            for col, (acc, n) in enumerate(zip(c.accuracy, c.train_images, strict=True)):
                self.table.setItem(row, col, _cell(f"{acc:.1%} ({n})"))
            verdict = QTableWidgetItem(c.text)
            verdict.setToolTip(c.text)
            if c.verdict == "data-limited":
                verdict.setBackground(QBrush(LIMITED))
            self.table.setItem(row, len(shares), verdict)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.show()

    def verdicts(self) -> dict[str, str]:
        """Class → verdict of the curves shown (for tests and automation)."""
        return {c.name: c.verdict for c in self.curve.classes} if self.curve else {}


def _cell(text: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item
