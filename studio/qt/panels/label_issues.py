"""The Label issues tab: images whose label is probably wrong, worst first, with Relabel,
Exclude and Keep.

The search (out-of-fold predictions scored by cleanlab, in
:mod:`studio.engine.results.label_issues`) runs on a worker thread with a stop token, its
progress streamed as events. Every decision is an edit of the project's data settings
(``relabeled_files``, ``excluded_files``, ``kept_files``), so it is saved with the project,
undone with Undo, and used by the next run; the image files are never moved or renamed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.qt.panels.results_views import THUMB, named
from studio.qt.panels.thumbnail_grid import fit_square
from studio.qt.project_model import ProjectModel

PATH_ROLE = Qt.ItemDataRole.UserRole
SHOWN_MAX = 300  # thumbnails listed at once
SUGGESTED = "the suggested class"
DECISION_FIELDS = ("relabeled_files", "excluded_files", "kept_files")


class LabelIssuesPanel(QWidget):
    """``found(report)`` when a search ends, ``failed(message)`` when it fails or is
    cancelled, ``progressed(event)`` for each progress event (on the GUI thread)."""

    found = Signal(object)
    failed = Signal(str)
    progressed = Signal(object)
    thumbnails_ready = Signal()

    def __init__(
        self,
        model: ProjectModel,
        cache_dir: Callable[[], Path | None] = lambda: None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        named(self, "labelIssuesPanel", "Label issues")
        self.model = model
        self.cache_dir = cache_dir
        self.report: Any = None  # studio.engine.results.label_issues.LabelIssueReport
        self.undo_stack: list[dict[str, Any]] = []
        self._token: Any = None
        self._generation = 0
        self._build()
        self.progressed.connect(self._show_progress)
        model.dataset_changed.connect(lambda _index: self.reset())
        model.project_changed.connect(self.reset)
        model.config_changed.connect(self._refresh_marks)

    # -- layout -------------------------------------------------------------------------
    def _build(self) -> None:
        intro = QLabel(
            "Find images whose label is probably wrong: every training and validation image "
            "is predicted by quick models that never saw it, and cleanlab ranks how likely "
            "its given label is wrong. Relabel, exclude or keep each one: your decisions are "
            "kept in the project (your files are never moved) and the next run uses them."
        )
        intro.setWordWrap(True)
        self.folds = named(QSpinBox(), "labelIssueFoldsInput", "Folds")
        self.folds.setRange(2, 20)
        self.folds.setValue(5)
        self.folds.setPrefix("Folds: ")
        self.folds.setToolTip("Cross-validation folds: more folds, more training per model.")
        self.find_button = named(
            QPushButton("Find label issues"), "findLabelIssuesButton", "Find label issues"
        )
        self.find_button.setProperty("primary", True)
        self.find_button.clicked.connect(lambda: self.find())
        self.cancel_button = named(QPushButton("Cancel"), "cancelLabelIssuesButton", "Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = named(QProgressBar(), "labelIssuesProgress", "Label issue progress")
        self.progress.setTextVisible(False)
        policy = self.progress.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # the row keeps its place while no search runs
        self.progress.setSizePolicy(policy)
        self.progress.hide()
        self.status = named(QLabel("Not searched yet."), "labelIssuesStatus", "Label issues")
        self.status.setWordWrap(True)
        self.show_all = named(
            QCheckBox("Show every image"), "labelIssuesShowAll", "Show every image"
        )
        self.show_all.setToolTip("List every image by score, not only the likely errors.")
        self.show_all.toggled.connect(lambda _on: self._fill())
        top = QHBoxLayout()
        for w in (self.folds, self.find_button, self.cancel_button):
            top.addWidget(w)
        top.addWidget(self.progress, 1)
        top.addWidget(self.show_all)

        self.list = named(QListWidget(), "labelIssueList", "Images with likely label issues")
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setGridSize(QSize(THUMB + 40, THUMB + 60))
        self.list.setWordWrap(True)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.itemSelectionChanged.connect(self._selection_changed)

        self.target = named(QComboBox(), "relabelClassInput", "Relabel as")
        self.relabel_button = named(QPushButton("Relabel"), "relabelButton", "Relabel")
        self.relabel_button.setToolTip("Train the selected images as this class (files stay put).")
        self.relabel_button.clicked.connect(lambda: self.relabel(self.selected_paths()))
        self.exclude_button = named(QPushButton("Exclude"), "excludeIssueButton", "Exclude")
        self.exclude_button.setToolTip("Leave the selected images out of training.")
        self.exclude_button.clicked.connect(lambda: self.exclude(self.selected_paths()))
        self.keep_button = named(QPushButton("Keep"), "keepIssueButton", "Keep label")
        self.keep_button.setToolTip("The label is right: keep it and stop listing the image.")
        self.keep_button.clicked.connect(lambda: self.keep(self.selected_paths()))
        self.undo_button = named(QPushButton("Undo"), "undoLabelDecisionButton", "Undo")
        self.undo_button.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_button.setToolTip("Undo the last decision (Ctrl+Z).")
        self.undo_button.clicked.connect(self.undo)
        actions = QHBoxLayout()
        actions.addWidget(QLabel("Relabel as"))
        for w in (
            self.target,
            self.relabel_button,
            self.exclude_button,
            self.keep_button,
            self.undo_button,
        ):
            actions.addWidget(w)
        actions.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(self.list, 1)
        layout.addLayout(actions)
        self._selection_changed()

    # -- searching ----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._token is not None

    def find(self, folds: int | None = None, quick: Any = None) -> None:
        """Search the project's images on a worker thread (``quick``: a
        :class:`~studio.engine.results.quick_models.QuickSettings`, tests make it tiny)."""
        if self.running:
            return
        if not self.model.sources:
            self.status.setText("Add images first: drop class folders on the window.")
            return
        from studio.engine.control import StopToken

        self._generation += 1
        generation = self._generation
        token = self._token = StopToken()
        config = self.model.config.model_copy(deep=True)
        folds = folds or self.folds.value()
        cache = self.cache_dir()
        self.find_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.status.setText("Reading the images…")

        task = self.model.tasks.track("Finding label issues", token.stop)

        def progressed(event: Any) -> None:
            self.progressed.emit(event)
            task.sink(event)

        def job() -> Any:
            from studio.engine.results.label_issues import find_label_issues

            return find_label_issues(config, folds, token, progressed, cache, quick)

        def done(report: Any) -> None:
            self._finish(generation)
            if generation != self._generation:
                return
            self.report = report
            self.undo_stack.clear()
            self.status.setText(report.summary())
            self._fill()
            self.found.emit(report)

        def failed(exc: Exception) -> None:
            self._finish(generation)
            message = str(exc) or type(exc).__name__
            self.status.setText(message)
            self.failed.emit(message)

        self.model.tasks.start(job, done, failed, token.stop, task=task)

    def cancel(self) -> None:
        if self._token is not None:
            self._token.stop()
            self.status.setText("Cancelling…")

    def _finish(self, generation: int) -> None:
        if generation == self._generation:
            self._token = None
            self.find_button.setEnabled(True)
            self.cancel_button.setEnabled(False)
            self.progress.hide()  # the status line says how the search ended

    def _show_progress(self, event: Any) -> None:
        if not self.running or not hasattr(event, "stage"):
            return
        self.progress.setRange(0, max(1, event.total))
        self.progress.setValue(event.done)
        self.status.setText(f"{event.stage}…")

    def reset(self) -> None:
        """New images or another project: the old list and its undo history no longer apply."""
        if self.running:
            self.cancel()
        self._generation += 1
        self.report = None
        self.undo_stack.clear()
        self.list.clear()
        self.status.setText("Not searched yet.")
        self._selection_changed()

    # -- the list -----------------------------------------------------------------------
    def shown(self) -> list[Any]:
        if self.report is None:
            return []
        images = self.report.images if self.show_all.isChecked() else self.report.flagged
        return images[:SHOWN_MAX]

    def _fill(self) -> None:
        self.list.clear()
        images = self.shown()
        for im in images:
            item = QListWidgetItem(self._label(im))
            item.setData(PATH_ROLE, str(im.path))
            item.setToolTip(
                f"{im.path}\ngiven {im.given}, suggested {im.suggested} "
                f"({im.confidence:.0%}); score {im.score:.3f} ({im.split})"
            )
            self.list.addItem(item)
        self._set_classes()
        self._selection_changed()
        self._load_thumbnails([str(im.path) for im in images])

    def _set_classes(self) -> None:
        self.target.clear()
        self.target.addItem(SUGGESTED)
        if self.report is not None:
            self.target.addItems(self.report.classes)

    def _decision(self, path: str) -> str:
        data = self.model.config.data
        p = Path(path)
        if p in data.excluded_files:
            return "excluded"
        if p in data.relabeled_files:
            return f"relabelled → {data.relabeled_files[p]}"
        if p in data.kept_files:
            return "kept"
        return ""

    def _label(self, im: Any) -> str:
        text = f"{im.given} → {im.suggested}\n{im.confidence:.0%} · score {im.score:.2f}"
        decision = self._decision(str(im.path))
        return f"{text}\n{decision}" if decision else text

    def _refresh_marks(self) -> None:
        by_path = {str(im.path): im for im in self.shown()}
        for row in range(self.list.count()):
            item = self.list.item(row)
            im = by_path.get(item.data(PATH_ROLE))
            if im is not None:
                item.setText(self._label(im))
        self._selection_changed()

    def _load_thumbnails(self, paths: list[str]) -> None:
        generation = self._generation

        def job() -> list[Any]:
            from studio.qt.images import thumbnails

            return thumbnails(paths, THUMB)

        def done(thumbs: list[Any]) -> None:
            if generation != self._generation:
                return
            from studio.qt.images import to_image

            ratio = self.list.devicePixelRatioF()  # drawn at the screen's pixels: crisp
            for row, rgb in enumerate(thumbs):
                item = self.list.item(row)
                if rgb is not None and item is not None and item.data(PATH_ROLE) == paths[row]:
                    # scaled up to the cell as the Images grid does: 32 px digits are no specks
                    icon = fit_square(to_image(rgb), round(THUMB * ratio))
                    icon.setDevicePixelRatio(ratio)
                    item.setIcon(QIcon(icon))
            self.thumbnails_ready.emit()

        if paths and self.window().isVisible():
            self.model.tasks.start(job, done)

    def selected_paths(self) -> list[str]:
        return [item.data(PATH_ROLE) for item in self.list.selectedItems()]

    def select(self, paths: list[str]) -> None:
        wanted = set(paths)
        for row in range(self.list.count()):
            item = self.list.item(row)
            item.setSelected(item.data(PATH_ROLE) in wanted)

    def _selection_changed(self) -> None:
        some = bool(self.list.selectedItems())
        for button in (self.relabel_button, self.exclude_button, self.keep_button):
            button.setEnabled(some)
        self.target.setEnabled(some)
        self.undo_button.setEnabled(bool(self.undo_stack))

    # -- decisions ----------------------------------------------------------------------
    def relabel(self, paths: list[str], cls: str | None = None) -> None:
        """Train ``paths`` as ``cls`` (default: the class chosen in the box, or each image's
        suggested class)."""
        if not paths or self.report is None:
            return
        chosen = cls or self.target.currentText()
        suggested = {str(im.path): im.suggested for im in self.report.images}
        given = {str(im.path): im.given for im in self.report.images}
        data = self.model.config.data
        moved = dict(data.relabeled_files)
        for path in paths:
            target = suggested.get(path, "") if chosen == SUGGESTED else chosen
            if not target:
                continue
            if target == given.get(path) and Path(path) not in moved:
                continue  # already its label
            moved[Path(path)] = target
        self._decide(
            relabeled_files=moved,
            excluded_files=[p for p in data.excluded_files if str(p) not in paths],
            kept_files=[p for p in data.kept_files if str(p) not in paths],
        )

    def exclude(self, paths: list[str]) -> None:
        """Leave ``paths`` out of training (kept in the project's excluded images)."""
        if not paths:
            return
        data = self.model.config.data
        chosen = [Path(p) for p in paths]
        self._decide(
            excluded_files=[
                *data.excluded_files,
                *(p for p in chosen if p not in data.excluded_files),
            ],
            kept_files=[p for p in data.kept_files if p not in chosen],
        )

    def keep(self, paths: list[str]) -> None:
        """The labels of ``paths`` (as listed) are right: keep them, and skip them in later
        searches."""
        if not paths:
            return
        data = self.model.config.data
        chosen = [Path(p) for p in paths]
        self._decide(
            kept_files=[*data.kept_files, *(p for p in chosen if p not in data.kept_files)],
            excluded_files=[p for p in data.excluded_files if p not in chosen],
        )

    def _decide(self, **fields: Any) -> None:
        data = self.model.config.data
        before = {name: _copy(getattr(data, name)) for name in DECISION_FIELDS}
        if all(fields.get(name, before[name]) == before[name] for name in DECISION_FIELDS):
            return
        self.undo_stack.append(before)
        self.model.update("data", **fields)

    def undo(self) -> None:
        """Put the three decision lists back as they were before the last decision."""
        if self.undo_stack:
            self.model.update("data", **self.undo_stack.pop())


def _copy(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else list(value)
