"""The status bar's progress for long tasks: "Scanning folders… 40 % · about 12 s left" with
a Cancel button, for whichever tracked task (:meth:`studio.qt.tasks.TaskRunner.track`) began
last and is still running."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from studio.qt.steady import ProgressBar, SteadyLabel
from studio.qt.tasks import Task, TaskRunner


def describe(task: Task) -> str:
    """The one line shown for ``task``."""
    title = f"{task.title} ({task.stage})" if task.stage else task.title
    fraction = task.fraction
    if fraction is None:
        return f"{title}…"
    text = f"{title}… {round(100 * fraction)} %"
    eta = task.eta()
    if eta is not None:
        text += f" · about {_duration(eta)} left"
    return text


def _duration(seconds: float) -> str:
    seconds = max(1, round(seconds))
    if seconds < 90:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 90 else f"{minutes / 60:.1f} h"


class TaskProgress(QWidget):
    """Shows the newest running task of ``tasks``; hidden when none runs."""

    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("taskProgress")
        self.setAccessibleName("Background task")
        self.running: list[Task] = []
        self.label = SteadyLabel("", widest="Evaluating on the test set… 100 % · about 59 min left")
        self.label.setObjectName("taskProgressLabel")
        self.bar = ProgressBar(objectName="taskProgressBar")
        self.bar.setTextVisible(False)
        self.bar.setMaximumWidth(120)
        self.cancel_button = QPushButton("Cancel", objectName="taskCancelButton")
        self.cancel_button.setToolTip("Stop this task; what was there before stays as it was.")
        self.cancel_button.clicked.connect(self.cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        tasks.task_started.connect(self._started)
        self.hide()

    @property
    def current(self) -> Task | None:
        return self.running[-1] if self.running else None

    def _started(self, task: Task) -> None:
        self.running.append(task)
        task.progressed.connect(lambda _done, _total: self._show())
        task.ended.connect(lambda: self._ended(task))
        self._show()

    def _ended(self, task: Task) -> None:
        if task in self.running:
            self.running.remove(task)
        self._show()

    def _show(self) -> None:
        task = self.current
        if task is None:
            self.hide()
            return
        self.label.setText(describe(task))
        fraction = task.fraction
        if fraction is None:
            self.bar.setRange(0, 0)  # busy: the total is not known yet
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(round(1000 * fraction))
        self.cancel_button.setEnabled(task.cancellable and not task.cancelled)
        self.show()

    def cancel(self) -> None:
        """Cancel the task shown."""
        task = self.current
        if task is not None:
            task.cancel()
            self.cancel_button.setEnabled(False)
            self.label.setText(f"{task.title}: cancelling…")
