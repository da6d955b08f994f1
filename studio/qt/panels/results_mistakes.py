"""The Results tab's mistakes: misclassified images worst first, their marks, Grad-CAM.

A vertical splitter (the Results tab turns it sideways when stacked): the gallery with its
mark buttons, then the Grad-CAM heat map of the selected image. Thumbnails and Grad-CAM run
on worker threads; marks ("wrong label", "exclude") are kept in the run folder's
``review.json``, and "exclude" also leaves the image out of the project's next training.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from studio.qt.panels.results_views import THUMB, Gallery, named
from studio.qt.project_model import ProjectModel

GALLERY_MAX = 120  # thumbnails shown at once
REVIEW = "review.json"
CAM_HINT = "Select an image for its Grad-CAM heat map."


class MistakesView(QSplitter):
    """The images of one run's result, with marks and Grad-CAM. ``cam_ready()`` fires when a
    heat map (or why there is none) is shown; ``message(text)`` when marks are saved."""

    cam_ready = Signal()
    message = Signal(str)

    def __init__(self, model: ProjectModel, lock: threading.Lock) -> None:
        super().__init__(Qt.Orientation.Vertical)
        self.model = model
        self.tasks = model.tasks
        self._lock = lock  # shared with the Results tab: one job at a time uses the model
        self._generation = 0
        self.run_dir: Path | None = None
        self.run: Any = None  # studio.engine.results.evaluation.LoadedRun
        self.result: dict[str, Any] | None = None
        self.marks: dict[str, str] = {}
        self._build()

    def _build(self) -> None:
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
        self.cam = named(QLabel(CAM_HINT), "gradCamView", "Grad-CAM")
        self.cam.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.cam.setMinimumSize(THUMB * 2, THUMB * 2)
        self.cam.setWordWrap(True)
        middle = QWidget()
        mid = QVBoxLayout(middle)
        mid.setContentsMargins(0, 0, 0, 0)
        mid.addWidget(self.gallery_title)
        mid.addWidget(self.gallery, 1)
        mid.addLayout(marks_row)
        self.addWidget(middle)
        self.addWidget(self.cam)

    def set_marks_enabled(self, on: bool) -> None:
        for w in (self.wrong_button, self.exclude_button, self.csv_button):
            w.setEnabled(on)

    def reset(self) -> None:
        """No run: no images, no marks, no heat map (a job still running is dropped)."""
        self._generation += 1
        self.run_dir, self.run, self.result, self.marks = None, None, None, {}
        self.gallery.clear()
        self.cam.clear()
        self.cam.setToolTip("")
        self.cam.setText(CAM_HINT)

    def open_run(self, run_dir: Path) -> None:
        """A run is being loaded: its saved marks now, its images once :meth:`show_result`."""
        self._generation += 1
        self.run_dir, self.run, self.result = run_dir, None, None
        self.marks = _read_marks(run_dir)

    def show_result(self, run: Any, result: dict[str, Any]) -> None:
        """The loaded run and its evaluation: its mistakes, worst first."""
        self.run, self.result = run, result
        self.show_mistakes()

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
        self.message.emit(f"Marks saved in {target}")
        return target


def _read_marks(run_dir: Path) -> dict[str, str]:
    try:
        data = json.loads((run_dir / REVIEW).read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in data.get("marks", {}).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def _write_marks(run_dir: Path, marks: dict[str, str]) -> None:
    from studio.fileio import atomic_write_text

    atomic_write_text(run_dir / REVIEW, json.dumps({"marks": marks}, indent=1, ensure_ascii=False))
