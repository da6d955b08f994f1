"""The Results tab: how the best model of a run does, where it fails, exporting it; the Try
tab (:class:`TryPanel`, owned here) tries the same loaded model.

Evaluation, thumbnails, Grad-CAM and export run on worker threads through the
project's :class:`TaskRunner`; torch and numpy load only inside those jobs. Marks ("wrong
label", "exclude") are kept in the run folder's ``review.json``; "exclude" also leaves the
image out of the project's next training (``config.data.excluded_files``). User files are
never touched.

The test split is sealed: evaluating on it is a deliberate unseal (asked first), counted and
dated per project (:mod:`studio.engine.results.test_seal`); the tab says how often the test
set has been seen and warns when settings changed after a peek.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio.qt.panels.learning_curve import LearningCurveView
from studio.qt.panels.results_views import THUMB, ConfusionMatrix, Gallery, MetricsTable, named
from studio.qt.panels.try_images import TryPanel
from studio.qt.project_model import ProjectModel

GALLERY_MAX = 120  # thumbnails shown at once
SIDE_BY_SIDE_WIDTH = 900  # narrower than this, the tab's parts stack in one scrolled column
MISTAKES_HEIGHT = 340  # stacked, the mistakes and Grad-CAM row: two rows of thumbnails
TABLE_HEIGHT = 420  # stacked, a table taller than this scrolls inside
REVIEW = "review.json"
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
        self.marks: dict[str, str] = {}
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
        self.matrix.cell_clicked.connect(self.show_cell)
        self.left = left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.metrics)
        left.addWidget(self.matrix)

        self.gallery_title = QLabel("Misclassified images, worst first")
        self.gallery = Gallery()
        self.gallery.currentRowChanged.connect(lambda _row: self.show_cam())
        self.wrong_button = named(
            QPushButton("Wrong label"), "markWrongLabelButton", "Mark wrong label"
        )
        self.wrong_button.setToolTip("Mark the selected images as labelled wrongly.")
        self.wrong_button.clicked.connect(
            lambda: self.mark(self.gallery.selected_paths(), "wrong_label")
        )
        self.exclude_button = named(QPushButton("Exclude"), "excludeImageButton", "Exclude image")
        self.exclude_button.setToolTip("Leave the image out of the next training (file untouched).")
        self.exclude_button.clicked.connect(
            lambda: self.mark(self.gallery.selected_paths(), "exclude")
        )
        self.csv_button = named(QPushButton("Save CSV…"), "exportMarksButton", "Save marks")
        self.csv_button.setToolTip("Save the marks (wrong label, exclude) as a CSV file.")
        self.csv_button.clicked.connect(self.save_marks_csv)
        self.all_button = QPushButton("All mistakes")
        self.all_button.setToolTip("Show every misclassified image again, worst first.")
        self.all_button.clicked.connect(self.show_mistakes)
        marks_row = QHBoxLayout()
        for w in (self.all_button, self.wrong_button, self.exclude_button, self.csv_button):
            marks_row.addWidget(w)
        self.cam = named(
            QLabel("Select an image for its Grad-CAM heat map."), "gradCamView", "Grad-CAM"
        )
        self.cam.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.cam.setMinimumSize(THUMB * 2, THUMB * 2)
        self.cam.setWordWrap(True)
        middle = QWidget()
        mid = QVBoxLayout(middle)
        mid.setContentsMargins(0, 0, 0, 0)
        mid.addWidget(self.gallery_title)
        mid.addWidget(self.gallery, 1)
        mid.addLayout(marks_row)
        self.right = right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(middle)
        right.addWidget(self.cam)
        self.body = body = QSplitter(Qt.Orientation.Horizontal)
        body.addWidget(left)
        body.addWidget(right)
        for splitter in (left, right, body):
            splitter.setChildrenCollapsible(False)
        self.stacked: bool | None = None
        self._arrange(stacked=False)
        content = QWidget()  # scrolls rather than widening the window
        layout = QVBoxLayout(content)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
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
        self._arrange(stacked=event.size().width() < SIDE_BY_SIDE_WIDTH)

    def _arrange(self, stacked: bool) -> None:
        """Metrics and matrix beside the mistakes and Grad-CAM where there is room; where
        there is not (1280×720, 150 % and 200 % scale), one column that the tab scrolls,
        with Grad-CAM beside the mistakes."""
        if stacked == self.stacked:
            return
        self.stacked = stacked
        vertical, horizontal = Qt.Orientation.Vertical, Qt.Orientation.Horizontal
        self.body.setOrientation(vertical if stacked else horizontal)
        self.right.setOrientation(horizontal if stacked else vertical)
        self.right.setSizes([360, 220] if stacked else [400, 220])
        if stacked:
            self._fit_heights()
        else:
            self.body.setMinimumHeight(0)
            self.left.setSizes([300, 300])
            self.body.setSizes([380, 420])

    def _fit_heights(self) -> None:
        """Stacked, each table is as tall as its rows (up to :data:`TABLE_HEIGHT`) and the
        column as tall as its parts; the tab scrolls."""
        tables = [min(w.sizeHint().height(), TABLE_HEIGHT) for w in (self.metrics, self.matrix)]
        handle = self.body.handleWidth()
        self.left.setSizes(tables)
        self.body.setMinimumHeight(sum(tables) + MISTAKES_HEIGHT + 2 * handle)
        self.body.setSizes([sum(tables) + handle, MISTAKES_HEIGHT])

    def _set_enabled(self, on: bool) -> None:
        for w in (
            self.test_button,
            self.export_button,
            self.wrong_button,
            self.exclude_button,
            self.csv_button,
        ):
            w.setEnabled(on)

    def _dataset_changed(self, _index: Any) -> None:
        """Other folders: the run shown goes. A rescan of the same folders (the project
        just opened, an edit) keeps it."""
        if self._sources != self.model.sources:
            self.reset()

    def reset(self) -> None:
        """Another project or dataset: no run shown (a job still running is dropped)."""
        self._generation += 1
        self._sources = None
        self.run_dir, self.run, self.result, self.marks = None, None, None, {}
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
        self.gallery.clear()
        self.cam.clear()
        self.cam.setToolTip("")
        self.cam.setText("Select an image for its Grad-CAM heat map.")
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
        generation = self._generation
        self.run_dir, self.run, self.result = Path(run_dir), None, None
        self._sources = self.model.sources
        self.marks = _read_marks(self.run_dir)
        from studio.engine.runs.eventlog import coach_verdict

        verdict = verdict or coach_verdict(self.run_dir)
        self.verdict.setText(f"Coach: {verdict}" if verdict else "")
        self.verdict.setVisible(bool(verdict))
        self._set_enabled(False)
        self.learning.set_run(None, None)
        self.try_panel.set_run(None)
        self.title.setText(f"Run {self.run_dir.name}: evaluating the best model on validation…")
        self.export_label.clear()

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
        if self.stacked:
            self._fit_heights()
        self.show_mistakes()

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

    # -- gallery ------------------------------------------------------------------------
    def show_mistakes(self) -> None:
        if self.result is None:
            return
        from_engine = [im for im in self.result["images"] if im["true"] != im["predicted"]]
        self.gallery_title.setText(f"Misclassified images, worst first ({len(from_engine)})")
        self._fill_gallery(from_engine)

    def show_cell(self, true: str, predicted: str) -> None:
        """The images of one confusion-matrix cell, worst first."""
        if self.result is None:
            return
        images = [
            im
            for im in self.result["images"]
            if im["true"] == true and im["predicted"] == predicted
        ]
        self.gallery_title.setText(f"True {true}, predicted {predicted} ({len(images)})")
        self._fill_gallery(images)

    def _fill_gallery(self, images: list[dict[str, Any]]) -> None:
        shown = images[:GALLERY_MAX]
        self.gallery.show_images(shown, self.marks)
        generation = self._generation
        paths = [im["path"] for im in shown]

        def job() -> list[Any]:
            from studio.qt.images import thumbnails

            return thumbnails(paths, THUMB)

        def done(thumbs: list[Any]) -> None:
            if generation != self._generation or self.gallery.images[: len(paths)] != shown:
                return
            from studio.qt.images import to_pixmap

            for row, rgb in enumerate(thumbs):
                if rgb is not None:
                    self.gallery.set_thumbnail(row, to_pixmap(rgb))

        if paths and self.window().isVisible():  # none after the window closed
            self.tasks.start(job, done)

    def show_cam(self) -> None:
        """Grad-CAM of the current gallery image, computed off the GUI thread."""
        item = self.gallery.currentItem()
        if item is None or self.run is None:
            return
        path, run, generation = item.data(Qt.ItemDataRole.UserRole), self.run, self._generation
        self.cam.setText("Computing Grad-CAM…")

        def job() -> tuple[Any, str]:
            from studio.engine.results.gradcam import grad_cam, overlay, supports_gradcam

            if not supports_gradcam(run.model_name):
                return None, "Grad-CAM needs a CNN backbone (not a vision transformer)."
            with self._lock:
                image, heat, cls = grad_cam(run, path)
            return overlay(
                image, heat
            ), f"{Path(path).name}: pixels that drove '{run.classes[cls]}'"

        def done(out: tuple[Any, str]) -> None:
            if generation != self._generation:
                return
            rgb, caption = out
            if rgb is None:
                self.cam.setText(caption)
            else:
                from studio.qt.images import to_pixmap

                pixmap = to_pixmap(rgb).scaled(
                    THUMB * 2, THUMB * 2, Qt.AspectRatioMode.KeepAspectRatio
                )
                self.cam.setPixmap(pixmap)
                self.cam.setToolTip(caption)
            self.cam_ready.emit()

        self.tasks.start(job, done, lambda exc: self.cam.setText(str(exc)))

    # -- marks --------------------------------------------------------------------------
    def mark(self, paths: list[str], kind: str) -> None:
        """Mark images as ``wrong_label`` or ``exclude`` (kept in ``review.json``; excluded
        images also leave the project's training set)."""
        if not paths or self.run_dir is None:
            return
        for p in paths:
            self.marks[p] = kind
        if kind == "exclude":
            current = list(self.model.config.data.excluded_files)
            new = [Path(p) for p in paths if Path(p) not in current]
            self.model.update("data", excluded_files=current + new)
        _write_marks(self.run_dir, self.marks)
        self.gallery.refresh_marks(self.marks)

    def save_marks_csv(self) -> Path | None:
        """Write the marks as ``review.csv`` in the run folder (path, true, predicted, mark)."""
        if self.run_dir is None:
            return None
        import csv
        import io

        from studio.fileio import atomic_write_text

        known = {im["path"]: im for im in (self.result or {}).get("images", [])}
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["path", "true", "predicted", "confidence", "mark"])
        for path, kind in sorted(self.marks.items()):
            im = known.get(path, {})
            conf = f"{im['confidence']:.4f}" if im else ""
            writer.writerow([path, im.get("true", ""), im.get("predicted", ""), conf, kind])
        target = self.run_dir / "review.csv"
        atomic_write_text(target, buffer.getvalue())
        self.export_label.setText(f"Marks saved in {target}")
        return target

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


def _read_marks(run_dir: Path) -> dict[str, str]:
    try:
        data = json.loads((run_dir / REVIEW).read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in data.get("marks", {}).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def _write_marks(run_dir: Path, marks: dict[str, str]) -> None:
    from studio.fileio import atomic_write_text

    atomic_write_text(run_dir / REVIEW, json.dumps({"marks": marks}, indent=1, ensure_ascii=False))
