"""The Try tab: drop, paste or open pictures (or point a camera) and see what the model says.

Each picture appears large beside its Grad-CAM, with its top-3 classes as bars, and one
click marks the answer right or wrong (a wrong one can name the right class); the marks are
tallied and kept in the run folder's ``tries.json``. Predictions run on a worker; the latest
request wins. The live camera (Qt Multimedia, where installed and a camera is found) is off
by default and no frame is ever saved.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QIcon,
    QImage,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPixmap,
    QShortcut,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from studio.qt.panels.results_views import named
from studio.qt.steady import ProgressBar

PICTURE = 320  # the tried picture and its Grad-CAM, in pixels
TOP = 3
TRIES = "tries.json"
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp)"


@dataclasses.dataclass(eq=False)
class Attempt:
    """One tried picture: where it came from, what the model said, and the user's mark."""

    name: str
    path: Path | None
    picture: QPixmap
    top: list[tuple[str, float]]
    cam: QPixmap | None
    note: str = ""
    mark: str = ""  # "", "right" or "wrong"
    truth: str = ""  # the right class, for a wrong answer


class FitPicture(QLabel):
    """A label whose picture shrinks to fit it, whole (a plain label crops a picture larger
    than itself); its text, when it has no picture, as usual."""

    def __init__(self) -> None:
        super().__init__()
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)

    def sizeHint(self) -> QSize:
        return QSize(PICTURE, PICTURE)

    def paintEvent(self, event: QPaintEvent) -> None:
        pixmap = self.pixmap()
        if pixmap.isNull():
            super().paintEvent(event)
            return
        area = self.contentsRect()
        size = pixmap.deviceIndependentSize().toSize()
        if size.width() > area.width() or size.height() > area.height():
            size = size.scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRect(area.topLeft(), size)
        target.moveCenter(area.center())
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawPixmap(target, pixmap)
        painter.end()


def camera_devices() -> tuple[list[Any], str]:
    """The cameras Qt Multimedia finds, or none and the reason."""
    try:
        from PySide6.QtMultimedia import QMediaDevices
    except ImportError as exc:
        library = re.search(r"lib[\w.+-]*\.so[\w.]*", str(exc))
        if library:  # installed, but a system library it links to is missing
            return [], f"Live camera: Qt Multimedia needs {library.group()}, not on this system."
        return [], "Live camera needs Qt Multimedia: install studio[camera]."
    found = list(QMediaDevices.videoInputs())
    return found, "" if found else "No camera found on this computer."


class TryPanel(QWidget):
    """Try the run's best model. ``tried(list[Attempt])`` fires on the GUI thread when a
    request's pictures are classified; ``failed(message)`` when one cannot be."""

    tried = Signal(object)
    failed = Signal(str)

    def __init__(self, tasks: Any, lock: threading.Lock, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, "tryPanel", "Try the model")
        self.tasks, self.lock = tasks, lock
        self.run: Any = None  # studio.engine.results.evaluation.LoadedRun
        self.attempts: list[Attempt] = []
        self.current: Attempt | None = None
        self._generation = 0
        self._busy = False
        self._pending: list[Any] | None = None  # the latest request while one runs
        self._camera: Any = None
        self.setAcceptDrops(True)
        self._build()
        self.set_run(None)

    # -- layout -------------------------------------------------------------------------
    def _build(self) -> None:
        self.open_button = named(QPushButton("Open images…"), "tryOpenButton", "Open images")
        self.open_button.clicked.connect(self.choose_images)
        self.paste_button = named(QPushButton("Paste"), "tryPasteButton", "Paste an image")
        self.paste_button.setToolTip("Paste a picture or a file path (Ctrl+V).")
        self.paste_button.clicked.connect(self.paste)
        paste = QShortcut(QKeySequence.StandardKey.Paste, self, self.paste)
        paste.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)  # on this tab only
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.camera_box = named(QCheckBox("Live camera"), "tryCameraToggle", "Live camera")
        self.camera_box.toggled.connect(self.set_camera)
        self.camera_reason = named(QLabel(), "tryCameraReason", "Camera")
        self.camera_reason.setStyleSheet("color: gray;")
        self.camera_reason.setWordWrap(True)  # wraps rather than cut on a narrow window
        self.hint = named(
            QLabel("Drop pictures or folders here, paste one, or open files."),
            "tryHint",
            "Try hint",
        )
        self.hint.setWordWrap(True)
        top = QHBoxLayout()
        for w in (self.open_button, self.paste_button, self.camera_box):
            top.addWidget(w)
        top.addWidget(self.camera_reason, 1)

        self.picture = named(FitPicture(), "tryPicture", "Tried picture")
        self.cam = named(FitPicture(), "tryGradCam", "Grad-CAM of the tried picture")
        for label in (self.picture, self.cam):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setMinimumSize(PICTURE // 2, PICTURE // 2)
            label.setStyleSheet("background: palette(base);")
        self.cam.setToolTip("Grad-CAM: the pixels that drove the top class (red: most).")
        self.bars: list[tuple[QLabel, ProgressBar]] = []
        bars = QGridLayout()
        for row in range(TOP):
            name = named(QLabel(), f"tryClass{row}", f"Class {row + 1}")
            bar = named(ProgressBar(), f"tryBar{row}", f"Confidence {row + 1}")
            bar.setRange(0, 1000)
            bar.setTextVisible(True)
            bars.addWidget(name, row, 0)
            bars.addWidget(bar, row, 1)
            self.bars.append((name, bar))
        bars.setColumnStretch(1, 1)
        self.right_button = named(QPushButton("✓ Right"), "tryRightButton", "Mark right")
        self.right_button.clicked.connect(lambda: self.mark("right"))
        self.wrong_button = named(QPushButton("✗ Wrong…"), "tryWrongButton", "Mark wrong")
        self.wrong_button.setToolTip("Mark the answer wrong and pick the right class.")
        self.wrong_button.clicked.connect(self._wrong_menu)
        self.tally = named(QLabel(), "tryTally", "Marks so far")
        self.tally.setWordWrap(True)
        marks = QHBoxLayout()
        for w in (self.right_button, self.wrong_button):
            marks.addWidget(w)
        marks.addStretch(1)
        self.note = named(QLabel(), "tryNote", "About the tried picture")
        self.note.setWordWrap(True)
        side = QVBoxLayout()
        side.addLayout(bars)
        side.addLayout(marks)
        side.addWidget(self.tally)  # its own line: never cut beside the buttons
        side.addWidget(self.note)
        side.addStretch(1)
        pictures = QHBoxLayout()
        pictures.addWidget(self.picture, 1)
        pictures.addWidget(self.cam, 1)
        pictures.addLayout(side, 1)
        self.history = named(QListWidget(), "tryHistory", "Tried pictures")
        self.history.setViewMode(QListWidget.ViewMode.IconMode)
        self.history.setIconSize(QSize(64, 64))
        self.history.setFlow(QListWidget.Flow.LeftToRight)
        self.history.setWrapping(False)
        self.history.setFixedHeight(100)
        self.history.currentRowChanged.connect(self._show_row)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.hint)
        layout.addLayout(pictures, 1)
        layout.addWidget(self.history)
        self._show(None)

    # -- the run --------------------------------------------------------------------------
    def set_run(self, run: Any) -> None:
        """The loaded run to try (``None``: nothing to try yet)."""
        self._generation += 1
        self.run = run
        self.attempts, self.current, self._pending = [], None, None
        self.history.clear()
        self._show(None)
        self._show_tally()
        for w in (self.open_button, self.paste_button):
            w.setEnabled(run is not None)
        # Qt Multimedia loads only once there is a model to try (not at start-up)
        devices, reason = camera_devices() if run is not None else ([], "")
        self.camera_box.setEnabled(bool(devices))
        tip = reason or "Classify what the camera sees (frames are never saved)."
        self.camera_box.setToolTip(tip)
        self.camera_reason.setText(reason)
        if run is None:
            self.set_camera(False)
            self.hint.setText("Train a model (or open a run on the Results tab) to try it here.")
        else:
            self.hint.setText(
                f"Try {run.model_name} ({len(run.classes)} classes): drop pictures or folders "
                "here, paste one (Ctrl+V), or open files."
            )

    # -- input ----------------------------------------------------------------------------
    def choose_images(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Try images", "", IMAGE_FILTER)
        if files:
            self.try_paths([Path(f) for f in files])

    def paste(self) -> None:
        """Try the clipboard's picture, its files, or the file path it holds as text."""
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None or self.run is None:
            return
        if mime.hasImage():
            image = QImage(mime.imageData())
            if not image.isNull():
                self.try_image(image, "pasted picture")
                return
        paths = [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]
        if not paths and mime.hasText():
            paths = [Path(line.strip()) for line in mime.text().splitlines() if line.strip()]
        if paths and all(p.exists() for p in paths):
            self.try_paths(paths)
        else:
            self.note.setText("The clipboard holds no picture or image file path.")

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self.run is not None and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.try_paths(paths)

    def try_paths(self, paths: list[Path]) -> None:
        """Try image files, and the images in folders (the newest request wins)."""
        self._request([("paths", paths)])

    def try_image(self, image: QImage, name: str) -> None:
        """Try a picture that is not a file (pasted, a camera frame)."""
        from studio.qt.images import to_rgb

        self._request([("rgb", (to_rgb(image), name))])

    # -- the worker -----------------------------------------------------------------------
    def _request(self, request: list[Any]) -> None:
        if self.run is None:
            return
        if self._busy:
            self._pending = request  # replaces any older waiting request
            return
        self._start(request)

    def _start(self, request: list[Any]) -> None:
        run, generation = self.run, self._generation
        self._busy = True
        self.note.setText("Classifying…")

        def job() -> list[tuple[str, Path | None, Any, Any]]:
            from studio.engine.data.images import ImageError, load_rgb
            from studio.engine.results.evaluation import expand_images
            from studio.engine.results.try_image import try_image

            out = []
            for kind, value in request:
                if kind == "rgb":
                    rgb, name = value
                    items = [(name, None, rgb)]
                else:
                    items = []
                    for path in expand_images(value):
                        try:
                            items.append((path.name, path, load_rgb(path)))
                        except ImageError as exc:
                            out.append((path.name, path, None, exc.detail))
                for name, path, rgb in items:
                    with self.lock:
                        out.append((name, path, rgb, try_image(run, rgb, TOP)))
            return out

        def done(results: list[tuple[str, Path | None, Any, Any]]) -> None:
            self._busy = False
            if generation == self._generation:
                self._add(results)
            self._next()

        def failed(exc: Exception) -> None:
            self._busy = False
            if generation == self._generation:
                message = str(exc) or type(exc).__name__
                self.note.setText(message)
                self.failed.emit(message)
            self._next()

        self.tasks.start(job, done, failed)

    def _next(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None and self.run is not None:
            self._start(pending)

    def _add(self, results: list[tuple[str, Path | None, Any, Any]]) -> None:
        from studio.qt.images import to_pixmap

        added = []
        for name, path, rgb, tried in results:
            if rgb is None:
                self.note.setText(f"{name}: {tried}")
                continue
            attempt = Attempt(
                name,
                path,
                to_pixmap(rgb),
                tried.top,
                to_pixmap(tried.cam) if tried.cam is not None else None,
                tried.note,
            )
            if self.camera_box.isChecked() and path is None and name == "camera":
                self._show(attempt)  # live frames are shown, not kept
                continue
            added.append(attempt)
            self.attempts.append(attempt)
            item = QListWidgetItem(QIcon(attempt.picture), name)
            item.setToolTip(str(path) if path else name)
            self.history.addItem(item)
        if added:
            self.history.setCurrentRow(self.history.count() - 1)
        self.tried.emit(added)

    # -- showing --------------------------------------------------------------------------
    def _show_row(self, row: int) -> None:
        if 0 <= row < len(self.attempts):
            self._show(self.attempts[row])

    def _show(self, attempt: Attempt | None) -> None:
        self.current = attempt
        if attempt is None:
            self.picture.clear()
            self.picture.setText("No picture yet")
            self.cam.clear()
            for name, bar in self.bars:
                name.clear()
                bar.setValue(0)
                bar.setFormat("")
            self.note.clear()
        else:
            self.picture.setPixmap(_large(attempt.picture))
            self.picture.setToolTip(str(attempt.path) if attempt.path else attempt.name)
            if attempt.cam is not None:
                self.cam.setPixmap(_large(attempt.cam))
            else:
                self.cam.clear()
                self.cam.setText(attempt.note or "No Grad-CAM")
            for row, (name, bar) in enumerate(self.bars):
                cls, p = attempt.top[row] if row < len(attempt.top) else ("", 0.0)
                name.setText(cls)
                bar.setValue(round(p * 1000))
                bar.setFormat(f"{p:.1%}" if cls else "")
            self.note.setText(self._mark_text(attempt))
        live = attempt is not None and attempt not in self.attempts
        for w in (self.right_button, self.wrong_button):
            w.setEnabled(attempt is not None and not live)

    @staticmethod
    def _mark_text(attempt: Attempt) -> str:
        if attempt.mark == "right":
            return f"{attempt.name}: marked right."
        if attempt.mark == "wrong":
            truth = f" (it is {attempt.truth})" if attempt.truth else ""
            return f"{attempt.name}: marked wrong{truth}."
        return f"{attempt.name}: is the answer right?"

    # -- marks ----------------------------------------------------------------------------
    def _wrong_menu(self) -> None:
        if self.current is None or self.run is None:
            return
        menu = QMenu(self)
        guess = self.current.top[0][0] if self.current.top else ""
        actions = {menu.addAction(f"It is {c}"): c for c in self.run.classes if c != guess}
        unknown = menu.addAction("Wrong (none of these)")
        chosen = menu.exec(self.wrong_button.mapToGlobal(self.wrong_button.rect().bottomLeft()))
        if chosen is not None:
            self.mark("wrong", "" if chosen is unknown else actions[chosen])

    def mark(self, verdict: str, truth: str = "") -> None:
        """Mark the shown attempt ``right`` or ``wrong`` (with the right class, if known)."""
        attempt = self.current
        if attempt is None or attempt not in self.attempts:
            return
        attempt.mark, attempt.truth = verdict, truth if verdict == "wrong" else ""
        self.note.setText(self._mark_text(attempt))
        self._show_tally()
        self._save()

    def counts(self) -> tuple[int, int]:
        """How many attempts are marked right and wrong."""
        right = sum(1 for a in self.attempts if a.mark == "right")
        return right, sum(1 for a in self.attempts if a.mark == "wrong")

    def _show_tally(self) -> None:
        right, wrong = self.counts()
        marked = right + wrong
        self.tally.setText(
            f"{right} right · {wrong} wrong ({right / marked:.0%} right)"
            if marked
            else "No marks yet"
        )

    def _save(self) -> None:
        """The marks of tried files in the run folder (pasted pictures by name only)."""
        run_dir = getattr(self.run, "run_dir", None)
        if run_dir is None:
            return
        from studio.fileio import atomic_write_text

        marks = [
            {
                "image": str(a.path) if a.path else a.name,
                "predicted": a.top[0][0] if a.top else "",
                "confidence": a.top[0][1] if a.top else 0.0,
                "mark": a.mark,
                "truth": a.truth,
            }
            for a in self.attempts
            if a.mark
        ]
        try:
            atomic_write_text(run_dir / TRIES, json.dumps({"marks": marks}, indent=1))
        except OSError as exc:
            self.note.setText(f"Marks not saved: {exc}")

    # -- camera ---------------------------------------------------------------------------
    def set_camera(self, on: bool) -> None:
        """Classify camera frames continuously (the latest frame wins; none is saved)."""
        if not on:
            if self._camera is not None:
                self._camera[0].stop()
                self._camera = None
            if self.camera_box.isChecked():
                self.camera_box.setChecked(False)
            return
        devices, reason = camera_devices()
        if not devices or self.run is None:
            self.camera_reason.setText(reason)
            self.camera_box.setChecked(False)
            return
        from PySide6.QtMultimedia import QCamera, QMediaCaptureSession, QVideoSink

        camera = QCamera(devices[0], self)
        session = QMediaCaptureSession(self)
        sink = QVideoSink(self)
        session.setCamera(camera)
        session.setVideoSink(sink)
        sink.videoFrameChanged.connect(self._frame)
        self._camera = (camera, session, sink)
        camera.start()

    def _frame(self, frame: Any) -> None:
        image = frame.toImage()
        if image.isNull() or self.run is None:
            return
        self.picture.setPixmap(_large(QPixmap.fromImage(image)))
        if not self._busy:  # frames arriving meanwhile are dropped: the latest one wins
            self.try_image(image, "camera")


def _large(pixmap: QPixmap) -> QPixmap:
    """``pixmap`` at the Try tab's picture size (small images scaled up, crisp)."""
    upscale = max(pixmap.width(), pixmap.height()) * 2 <= PICTURE
    mode = (
        Qt.TransformationMode.FastTransformation
        if upscale
        else Qt.TransformationMode.SmoothTransformation
    )
    return pixmap.scaled(PICTURE, PICTURE, Qt.AspectRatioMode.KeepAspectRatio, mode)
