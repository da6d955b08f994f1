"""The Results tab: how the best model of a run does, where it fails, exporting it; the Try
tab (:class:`TryPanel`, owned here) tries the same loaded model.

Evaluation, thumbnails, Grad-CAM and export run on worker threads through the
project's :class:`TaskRunner`; torch and numpy load only inside those jobs. Marks ("wrong
label", "exclude") are kept in the run folder's ``review.json``; "exclude" also leaves the
image out of the project's next training (``config.data.excluded_files``). User files are
never touched. The mistakes gallery, marks and Grad-CAM are :mod:`.results_mistakes`; the
side-by-side or stacked arrangement is :mod:`.results_layout`.

The test split is sealed: evaluating on it is a deliberate unseal (asked first), counted and
dated per project (:mod:`studio.engine.results.test_seal`); the tab says how often the test
set has been seen and warns when settings changed after a peek.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.qt.fit import frameless_scroll
from studio.qt.later import later
from studio.qt.panels.learning_curve import LearningCurveView
from studio.qt.panels.results_layout import SIDE_BY_SIDE_WIDTH, ResultsBody
from studio.qt.panels.results_mistakes import MistakesView
from studio.qt.panels.results_views import ConfusionMatrix, MetricsTable, named
from studio.qt.panels.try_images import TryPanel
from studio.qt.project_model import ProjectModel

EXPORT_FORMATS = ("onnx", "torchscript", "state_dict")


class ResultsPanel(QWidget):
    """Results of one run folder. ``evaluated(result)`` and ``exported(report)`` fire on
    the GUI thread when the background jobs are done; ``failed(message)`` when one fails."""

    evaluated = Signal(object)
    test_evaluated = Signal(object)
    exported = Signal(object)
    cam_ready = Signal()
    failed = Signal(str)

    def __init__(self, model: ProjectModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, "resultsPanel", "Results")
        self.model = model
        self.tasks = model.tasks
        self.run_dir: Path | None = None
        self.run: Any = (
            None  # studio.engine.results.evaluation.LoadedRun, loaded off the GUI thread
        )
        self.result: dict[str, Any] | None = None
        self._lock = threading.Lock()  # one job at a time uses the model
        self._generation = 0
        self._sources: list[Path] | None = None  # the data folders when the run was shown
        self.try_panel = TryPanel(self.tasks, self._lock)  # the window shows it as a tab
        self._build()
        model.project_changed.connect(self.reset)
        model.dataset_changed.connect(self._dataset_changed)

    # -- layout -------------------------------------------------------------------------
    def _build(self) -> None:
        self.title = named(
            QLabel("No run yet: train a model, or open a past run."), "resultsTitle", "Run"
        )
        self.title.setWordWrap(True)
        self.summary = named(QLabel(), "resultsSummary", "Accuracy summary")
        self.summary.setWordWrap(True)
        self.verdict = named(QLabel(), "coachVerdictLabel", "The coach's verdict")
        self.verdict.setWordWrap(True)
        self.verdict.setToolTip("What the overfitting coach concluded about this run.")
        self.open_button = named(QPushButton("Open run…"), "openRunButton", "Open a run folder")
        self.open_button.clicked.connect(self._choose_run)
        self.test_button = named(
            QPushButton("Unseal test set…"), "evaluateTestButton", "Evaluate on test set"
        )
        self.test_button.setToolTip(
            "The test split is sealed: look at it once, at the end. Every look is counted and "
            "dated in the project."
        )
        self.test_button.clicked.connect(self.evaluate_test)
        self.test_label = named(QLabel(), "testLooksLabel", "Test set looks")
        self.seal_label = named(QLabel(), "testSealLabel", "Test set seal")
        self.seal_warning = named(QLabel(), "testSealWarning", "Test set warning")
        self.seal_warning.setWordWrap(True)
        self.seal_warning.setProperty("warning", True)  # coloured by the theme
        self.seal_warning.hide()
        self._looks: list[Any] = []  # the project's looks at the test set (test_seal.Look)
        self.model.config_changed.connect(lambda: self._show_seal(reload=False))
        self.format = named(QComboBox(), "exportFormatInput", "Export format")
        self.format.addItems(EXPORT_FORMATS)
        self.export_button = named(
            QPushButton("Export and verify"), "exportButton", "Export the model"
        )
        self.export_button.setToolTip(
            "Write a bundle (model, model card, example script) into the run folder, verified "
            "against the app on validation images."
        )
        self.export_button.clicked.connect(lambda: self.export(self.format.currentText()))
        self.export_label = named(QLabel(), "exportStatusLabel", "Export status")
        self.export_label.setWordWrap(True)
        self.test_label.setWordWrap(True)
        top = QHBoxLayout()
        for w in (self.open_button, self.test_button):
            top.addWidget(w)
        top.addWidget(self.test_label, 1)
        export_row = QHBoxLayout()
        export_row.addWidget(QLabel("Export as"))
        for w in (self.format, self.export_button):
            export_row.addWidget(w)
        export_row.addWidget(self.export_label, 1)

        self.metrics = MetricsTable()
        self.matrix = ConfusionMatrix()
        self.mistakes = MistakesView(self.model, self._lock)
        self.mistakes.cam_ready.connect(self.cam_ready)
        self.mistakes.message.connect(self.export_label.setText)
        self.matrix.cell_clicked.connect(self.mistakes.show_cell)
        self.gallery, self.cam = self.mistakes.gallery, self.mistakes.cam
        self.body = body = ResultsBody(self.metrics, self.matrix, self.mistakes)
        content = QWidget()  # scrolls rather than widening the window
        layout = QVBoxLayout(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(frameless_scroll(content))
        layout.addWidget(self.title)
        layout.addLayout(top)
        layout.addWidget(self.seal_label)
        layout.addWidget(self.seal_warning)
        layout.addWidget(self.summary)
        layout.addWidget(self.verdict)
        layout.addWidget(body, 1)
        self.learning = LearningCurveView(self.model)
        layout.addWidget(self.learning)
        layout.addLayout(export_row)
        self._set_enabled(False)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.body.arrange(stacked=event.size().width() < SIDE_BY_SIDE_WIDTH)

    def _set_enabled(self, on: bool) -> None:
        for w in (self.test_button, self.export_button):
            w.setEnabled(on)
        self.mistakes.set_marks_enabled(on)

    def _dataset_changed(self, _index: Any) -> None:
        """Other folders: the run shown goes. A rescan of the same folders (the project
        just opened, an edit) keeps it."""
        if self._sources != self.model.sources:
            self.reset()

    def reset(self) -> None:
        """Another project or dataset: no run shown (a job still running is dropped)."""
        self._generation += 1
        self._sources = None
        self.run_dir, self.run, self.result = None, None, None
        self.title.setText("No run yet: train a model, or open a past run.")
        for label in (self.summary, self.verdict, self.test_label, self.seal_label):
            label.clear()
        self.verdict.hide()
        self.seal_warning.hide()
        self.export_label.clear()
        self.metrics.setRowCount(0)
        self.matrix.result = None
        self.matrix.table.setRowCount(0)
        self.matrix.table.setColumnCount(0)
        self.mistakes.reset()
        self.try_panel.set_run(None)
        self.learning.set_run(None, None)
        self._set_enabled(False)

    # -- showing a run ------------------------------------------------------------------
    def run_finished(self, event: Any, run_dir: Path | None) -> bool:
        """After training: show the run when it saved a best model; says whether it did."""
        if (
            run_dir is None
            or event.best_epoch is None
            or not (run_dir / "best.safetensors").is_file()
        ):
            return False
        self.show_run(run_dir)
        return True

    def show_latest(self, store: Any) -> bool:
        """On opening a project: show its newest run that kept a best model, with the
        coach's verdict from the run history (a ``RunStore``, or ``None``)."""
        for record in store.runs() if store is not None else []:
            run_dir = Path(record.run_dir) if record.run_dir else None
            if run_dir is not None and (run_dir / "best.safetensors").is_file():
                self.show_run(run_dir, record.verdict)
                return True
        return False

    def _choose_run(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a run folder")
        if folder:
            self.show_run(Path(folder))

    def show_run(self, run_dir: Path, verdict: str = "") -> None:
        """Load the run's best model and evaluate it on validation, off the GUI thread;
        the coach's ``verdict`` as the run history has it, else from its events."""
        self._generation += 1
        self.run_dir, self.run, self.result = Path(run_dir), None, None
        self._sources = self.model.sources
        self.mistakes.open_run(self.run_dir)
        from studio.engine.runs.eventlog import coach_verdict

        verdict = verdict or coach_verdict(self.run_dir)
        self.verdict.setText(f"Coach: {verdict}" if verdict else "")
        self.verdict.setVisible(bool(verdict))
        self._set_enabled(False)
        self.learning.set_run(None, None)
        self.try_panel.set_run(None)
        self.title.setText(f"Run {self.run_dir.name}: evaluating the best model on validation…")
        self.export_label.clear()
        later(self._evaluate)  # after the tab's first paint: a worker loading the model
        # holds the GIL, and that paint (20-40 ms) would wait for it

    def _evaluate(self) -> None:
        """Evaluate the run :meth:`show_run` opened on validation, on a worker."""
        if self.run_dir is None or self.run is not None or not self.window().isVisible():
            return  # no run to evaluate any more, or the window has closed
        generation, run_dir = self._generation, self.run_dir
        from studio.engine.control import StopToken

        token = StopToken()  # closing the window cancels a long evaluation
        task = self.tasks.track("Evaluating on validation", token.stop)

        def job() -> tuple[Any, dict[str, Any], int, bool]:
            from studio.engine.results.evaluation import (
                evaluate_split,
                load_run,
                looks_at_test,
                split_files,
            )

            run = load_run(run_dir, device="auto")  # the GPU when there is one
            with self._lock:
                result = evaluate_split(run, token=token, progress=task.report)
            return run, result, looks_at_test(run_dir), bool(split_files(run, "test")[0])

        def done(out: tuple[Any, dict[str, Any], int, bool]) -> None:
            if generation != self._generation or not self.window().isVisible():
                return  # another run was opened meanwhile, or the window has closed
            self.run, self.result, looks, has_test = out
            self._show_result(self.result)
            self._set_enabled(True)
            self.test_button.setEnabled(has_test)
            self._show_looks(looks, has_test)
            self.learning.set_run(self.run_dir, self.run.config)
            self.try_panel.set_run(self.run)
            self.evaluated.emit(self.result)

        self.tasks.start(
            job, done, lambda exc: self._failed(exc, generation), token.stop, task=task
        )

    def _show_result(self, r: dict[str, Any]) -> None:
        name = self.run.model_name if self.run is not None else ""
        self.title.setText(
            f"Run {self.run_dir.name if self.run_dir else ''} · {name} · best checkpoint"
        )
        topk = "".join(f", top-{k} {v:.1%}" for k, v in r.get("top_k", {}).items())
        wrong = sum(1 for im in r["images"] if im["true"] != im["predicted"])
        self.summary.setText(
            f"Validation accuracy {r['accuracy']:.1%} on {r['count']} images{topk} · "
            f"macro F1 {r['macro']['f1']:.3f} · {wrong} misclassified."
        )
        self.metrics.show_result(r)
        self.matrix.show_result(r)
        if self.body.stacked:
            self.body.fit_heights()
        self.mistakes.show_result(self.run, r)

    def _show_looks(self, looks: int, has_test: bool) -> None:
        if not has_test:
            self.test_label.setText("No test split in this run.")
        else:
            self.test_label.setText(f"Test set looked at {looks} time(s).")
        self._show_seal()

    def _show_seal(self, reload: bool = True) -> None:
        """How often the project's test set has been seen (read again with ``reload``), and
        a warning when the settings changed after the last look (a test score then no
        longer judges them fairly)."""
        if self.run_dir is None:
            self.seal_label.clear()
            self.seal_label.hide()
            self.seal_warning.hide()
            return
        from studio.engine.results import test_seal

        if reload:
            project = test_seal.project_of(self.run_dir)
            self._looks = test_seal.looks(project)
            self.seal_label.setText(test_seal.describe(project))
            self.seal_label.setVisible(bool(self.seal_label.text()))
        looks = self._looks
        changed = test_seal.changed_since_look(looks, self.model.config)
        if changed:
            shown = ", ".join(changed[:4]) + ("…" if len(changed) > 4 else "")
            self.seal_warning.setText(
                f"⚠ Settings changed after the test set was looked at on {looks[-1].when} "
                f"({shown}). Choosing settings by test results makes the test score "
                "optimistic: judge changes on validation, and keep the test set for the end."
            )
        self.seal_warning.setVisible(bool(changed))

    def confirm_unseal(self) -> bool:
        """Ask before unsealing the test set (tests replace this)."""
        from studio.engine.results import test_seal

        looks = len(test_seal.looks(test_seal.project_of(self.run_dir))) if self.run_dir else 0
        seen = f" It has been looked at {looks} time(s) already." if looks else ""
        answer = QMessageBox.question(
            self,
            "Unseal the test set",
            "The test set is your final, honest check: every look is counted and settings "
            f"chosen after a look make it optimistic.{seen} Look at it now?",
        )
        return answer == QMessageBox.StandardButton.Yes

    def _failed(self, exc: Exception, generation: int | None = None) -> None:
        if generation is not None and generation != self._generation:
            return
        message = str(exc) or type(exc).__name__
        self.export_label.setText(message)
        self.failed.emit(message)

    # -- marks (kept by the mistakes view) -----------------------------------------------
    def mark(self, paths: list[str], kind: str) -> None:
        """Mark images as ``wrong_label`` or ``exclude`` (see :meth:`MistakesView.mark`)."""
        self.mistakes.mark(paths, kind)

    def save_marks_csv(self) -> Path | None:
        """Write the marks as ``review.csv`` in the run folder."""
        return self.mistakes.save_marks_csv()

    # -- test split ---------------------------------------------------------------------
    def evaluate_test(self) -> None:
        """The held-out test results (computed once per run; every look is counted)."""
        if self.run is None or not self.confirm_unseal():
            return
        from studio.engine.control import StopToken

        run, generation = self.run, self._generation
        self.test_button.setEnabled(False)
        token = StopToken()
        task = self.tasks.track("Evaluating on the test set", token.stop)

        def job() -> tuple[dict[str, Any], int]:
            from studio.engine.results.evaluation import evaluate_test_split

            with self._lock:
                return evaluate_test_split(run, token, task.report)

        def done(out: tuple[dict[str, Any], int]) -> None:
            if generation != self._generation:
                return
            result, looks = out
            self.test_button.setEnabled(True)
            self._show_looks(looks, True)
            self.summary.setText(
                self.summary.text().split(" · Test")[0]
                + f" · Test accuracy {result['accuracy']:.1%} on {result['count']} images."
            )
            self.test_evaluated.emit(result)

        def failed(exc: Exception) -> None:
            self.test_button.setEnabled(True)
            self._failed(exc, generation)

        self.tasks.start(job, done, failed, token.stop, task=task)

    # -- export -------------------------------------------------------------------------
    def export(self, fmt: str, out: Path | None = None) -> None:
        """Export and verify off the GUI thread; the status line shows the comparison."""
        if self.run_dir is None:
            return
        run_dir, generation = self.run_dir, self._generation
        out = out or run_dir / "exports" / f"{fmt}-{time.strftime('%Y%m%d-%H%M%S')}"
        self.export_button.setEnabled(False)
        self.export_label.setText(f"Exporting {fmt} and verifying it against the app…")

        from studio.engine.control import Stopped, StopToken

        token = StopToken()
        task = self.tasks.track(f"Exporting {fmt}", token.stop)

        def step(text: str) -> None:
            """Each export step: stop here when cancelled (nothing is renamed into place
            before the last step, so a cancelled export leaves nothing)."""
            if token.should_stop():
                raise Stopped("export cancelled")
            task.report(0, 0, text.rstrip("…."))

        def job() -> Any:
            from studio.engine.results.export import export

            with self._lock:
                return export(run_dir, fmt, out, progress=step)

        def done(report: Any) -> None:
            self.export_button.setEnabled(True)
            self.export_label.setText(
                f"Exported {report.format} to {report.out} · verified on {report.images} "
                f"validation images: max abs difference {report.max_abs_diff:.2g}, top-1 "
                f"agreement {report.agreement:.0%} ({report.seconds:.1f} s)."
            )
            self.exported.emit(report)

        def failed(exc: Exception) -> None:
            self.export_button.setEnabled(True)
            if isinstance(exc, Stopped):
                self.export_label.setText("Export cancelled: nothing was written.")
                return
            self._failed(exc, generation)

        self.tasks.start(job, done, failed, token.stop, task=task)
