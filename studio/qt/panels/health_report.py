"""The health report section of the dataset dock: a bar chart of class counts, warnings and
the problem list. The check runs off the GUI thread, with progress and a Cancel button."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.qt.tasks import TaskRunner

if TYPE_CHECKING:
    from studio.engine.data.health import HealthReport
    from studio.engine.data.index import DatasetIndex
    from studio.engine.data.splits import DataSplit

BAR = 16


class HealthCheck(QObject):
    """Runs :func:`studio.engine.data.health.check_health`, then the one split
    (:func:`studio.engine.data.splits.split_dataset`, reusing the check's content hashes),
    on a worker thread.

    ``progress(done, total)`` and ``finished(report, split)`` arrive on the GUI thread
    (``split`` is a ``DataSplit``, or ``None`` when the check was stopped); a new
    :meth:`start` cancels the previous check, whose result is then dropped. :meth:`resplit`
    splits again after the user's edits and answers with ``split_ready(split)``.
    """

    progress = Signal(int, int)
    finished = Signal(object, object)
    split_ready = Signal(object)
    _progress = Signal(int, int)

    def __init__(self, tasks: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.token: Any = None
        self.split_token: Any = None
        self.generation = 0
        self.split_generation = 0
        self._progress.connect(self.progress)

    @property
    def running(self) -> bool:
        return self.token is not None

    def start(self, index: DatasetIndex, data_config: Any, seed: int) -> None:
        """Check ``index`` and split it with ``data_config`` (a ``DataConfig``) and ``seed``."""
        from studio.engine.control import StopToken

        self.cancel()
        self.generation += 1
        generation, token = self.generation, StopToken()
        self.token = token
        data = data_config.model_copy(deep=True)  # the worker never reads a live config
        task = self.tasks.track("Checking data health", token.stop)

        def work() -> tuple[HealthReport, DataSplit | None]:
            from studio.engine.data.health import check_health
            from studio.engine.data.splits import split_dataset
            from studio.engine.events import CheckProgress

            def sink(event: Any) -> None:
                if isinstance(event, CheckProgress):
                    self._progress.emit(event.done, event.total)
                    task.report(event.done, event.total)

            report = check_health(index, sink, token)
            if report.cancelled:
                return report, None
            return report, split_dataset(data, seed, index, report.digests, token)

        def done(result: tuple[HealthReport, DataSplit | None]) -> None:
            if generation == self.generation:
                self.token = None
                self.finished.emit(*result)

        def failed(exc: Exception) -> None:
            if generation == self.generation:
                self.token = None

        self.tasks.start(work, done, failed, stop=token.stop, task=task)

    def resplit(
        self, index: DatasetIndex, data_config: Any, seed: int, known: dict[Path, str]
    ) -> None:
        """Split ``index`` again (the edits or fractions changed); the latest request wins."""
        from studio.engine.control import StopToken

        if self.split_token is not None:
            self.split_token.stop()
        self.split_generation += 1
        generation, token = self.split_generation, StopToken()
        self.split_token = token
        data = data_config.model_copy(deep=True)

        def work() -> DataSplit | None:
            from studio.engine.data.splits import split_dataset

            return split_dataset(data, seed, index, known, token)

        def done(split: DataSplit | None) -> None:
            if generation == self.split_generation:
                self.split_token = None
                if split is not None:
                    self.split_ready.emit(split)

        def failed(exc: Exception) -> None:
            if generation == self.split_generation:
                self.split_token = None

        self.tasks.start(work, done, failed, stop=token.stop)

    def cancel(self) -> None:
        for token in (self.token, self.split_token):
            if token is not None:
                token.stop()
        self.token = self.split_token = None  # a stopped check still reports what it found
        self.split_generation += 1


class CountsChart(QWidget):
    """Horizontal bars, one per class, long enough to compare at a glance."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("classCountsChart")
        self.setAccessibleName("Images per class")
        self.counts: dict[str, int] = {}

    def set_counts(self, counts: dict[str, int]) -> None:
        self.counts = dict(counts)
        self.setToolTip("\n".join(f"{k}: {v:,}" for k, v in counts.items()))
        self.setMinimumHeight(len(counts) * (BAR + 4) + 4)
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(200, len(self.counts) * (BAR + 4) + 4)

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self.counts:
            return
        painter = QPainter(self)
        metrics = painter.fontMetrics()
        name_w = min(self.width() // 3, max(metrics.horizontalAdvance(n) for n in self.counts) + 6)
        top = max(self.counts.values()) or 1
        span = max(10, self.width() - name_w - 60)
        for row, (name, count) in enumerate(self.counts.items()):
            y = 2 + row * (BAR + 4)
            painter.setPen(self.palette().text().color())
            painter.drawText(QRectF(0, y, name_w - 4, BAR), Qt.AlignmentFlag.AlignRight, name)
            width = span * count / top
            painter.fillRect(QRectF(name_w, y + 2, width, BAR - 4), QColor(70, 130, 200))
            painter.drawText(QRectF(name_w + width + 4, y, 60, BAR), 0, f"{count:,}")
        painter.end()


class HealthReportView(QWidget):
    """Progress while checking, then the counts chart, warnings, sizes and problem list."""

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.progress = QProgressBar(objectName="healthProgress", accessibleName="Data check")
        self.progress.setFormat("Checking %v/%m files")
        cancel = QPushButton("Cancel", objectName="cancelCheckButton")
        cancel.setToolTip("Stop checking: the report shows what was found so far.")
        cancel.clicked.connect(self.cancel_requested)
        self.progress_row = QWidget()
        row = QHBoxLayout(self.progress_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.progress, 1)
        row.addWidget(cancel)
        self.progress_row.hide()
        self.chart = CountsChart()
        self.status = QLabel(objectName="healthSummary", wordWrap=True)
        self.problems = QTreeWidget(objectName="problemList")
        self.problems.setAccessibleName("Data problems")
        self.problems.setHeaderLabels(["Problem", "File", "Detail"])
        self.problems.setRootIsDecorated(False)
        self._lines: list[str] = []
        self._split_line = ""
        self.problems.setUniformRowHeights(True)
        header = self.problems.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.progress_row)
        layout.addWidget(self.chart)
        layout.addWidget(self.status)
        layout.addWidget(self.problems, 1)

    def checking(self, done: int, total: int) -> None:
        self.progress_row.show()
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def clear(self) -> None:
        self.progress_row.hide()
        self.chart.set_counts({})
        self._lines, self._split_line = [], ""
        self.status.clear()
        self.problems.clear()

    def show_report(self, report: HealthReport) -> None:
        from studio.engine.data.health import KIND_TITLES

        self.progress_row.hide()
        self.chart.set_counts(report.classes)
        lines: list[str] = []
        if report.cancelled:
            lines.append(f"Check stopped: {report.checked:,} of {report.files:,} files read.")
            self._split_line = "Split: not worked out (the check was stopped)."
        tally = Counter(p.kind for p in report.problems)
        lines.extend(f"⚠ {KIND_TITLES.get(k, k)}: {n}" for k, n in sorted(tally.items()))
        if report.sizes:
            s = report.sizes
            lines.append(
                f"Sizes {s.min_width}–{s.max_width} × {s.min_height}–{s.max_height} px "
                f"(median {s.median_width}×{s.median_height}): try image size "
                f"{s.suggested_size}."
            )
        if not tally and not report.cancelled:
            lines.insert(0, "✓ No problems found.")
        self._lines = lines
        self._render()
        self.problems.clear()
        items = [QTreeWidgetItem([p.kind, p.path, p.detail]) for p in report.problems]
        for item, problem in zip(items, report.problems, strict=True):
            item.setToolTip(1, problem.path)
            item.setToolTip(2, problem.detail)
        self.problems.addTopLevelItems(items)

    def show_split(self, totals: dict[str, int]) -> None:
        """The training split's size per part, as the trainer will split (edits applied)."""
        self._split_line = "Split: " + " · ".join(
            f"{k} {totals.get(k, 0):,}" for k in ("train", "val", "test")
        )
        self._render()

    def _render(self) -> None:
        self.status.setText("<br>".join(line for line in [*self._lines, self._split_line] if line))
