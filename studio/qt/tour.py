"""The first-run tour: five steps from images to results, on a card inside the window.

Each step outlines the part of the window it talks about. The card is no dialog: the window
stays usable while it shows. Skipping or finishing marks the tour done in the app settings
(``tourDone``); Help → Take the tour opens it again. :func:`maybe_start` (called by the app at
start-up, not by the window itself) shows it only while it is not done.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QEvent, QObject, QRect, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from studio.qt.project_actions import app_settings


@dataclass(frozen=True)
class Step:
    title: str
    text: str
    target: str  # what to outline: a dock's objectName, "tab:<index>" or "train"


STEPS = (
    Step(
        "1. Add your images",
        "Drop folders on the window, one folder per class (cat/, dog/…), or use "
        "<b>File → Add folder</b>. No images at hand? Try the built-in sample digits.",
        "datasetBrowser",
    ),
    Step(
        "2. Check the data",
        "The <b>Images</b> and <b>Data health</b> tabs show every picture and what is wrong: "
        "broken files, duplicates, a class with too few images. Clean data beats a bigger "
        "model.",
        "tab:2",
    ),
    Step(
        "3. Pick a model",
        "Start with a small pre-trained model and <b>fine-tune</b> it: it already knows edges "
        "and shapes, so it needs far fewer images than one trained from scratch.",
        "modelPicker",
    ),
    Step(
        "4. Set augmentation and knobs",
        "Augmentation shows the random changes training will see; the training settings hold "
        "the knobs. Hover any knob for a plain-words tip, press <b>F1</b> for its glossary "
        "entry. The defaults are a good start.",
        "hyperparameterPanel",
    ),
    Step(
        "5. Train and read the results",
        "Click <b>Train</b> (Ctrl+Enter) and watch the curves: judge by <i>validation</i> "
        "accuracy. The coach warns when the model starts to overfit; the <b>Results</b> tab "
        "shows what it gets wrong.",
        "train",
    ),
)


class _Outline(QWidget):
    """A highlight-coloured frame drawn over the window, letting clicks through."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setObjectName("tourOutline")

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(self.palette().color(QPalette.ColorRole.Highlight), 3)
        painter.setPen(pen)
        painter.drawRoundedRect(self.rect().adjusted(2, 2, -2, -2), 8, 8)


class Tour(QObject):
    """The tour of one window; ``card`` is the step card (hidden when the tour is not on)."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.step = 0
        self.card = QFrame(window)
        self.card.setObjectName("tourCard")
        self.card.setAccessibleName("Tour")
        self.card.setFrameShape(QFrame.Shape.StyledPanel)
        self.card.setAutoFillBackground(True)
        self.title = QLabel()
        self.title.setObjectName("tourTitle")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setObjectName("tourText")
        self.counter = QLabel()
        self.back = QPushButton("Back")
        self.back.setObjectName("tourBackButton")
        self.next = QPushButton("Next")
        self.next.setObjectName("tourNextButton")
        self.next.setProperty("primary", True)
        self.skip = QPushButton("Skip tour")
        self.skip.setObjectName("tourSkipButton")
        self.skip.setFlat(True)
        self.back.clicked.connect(lambda: self.show_step(self.step - 1))
        self.next.clicked.connect(self._next)
        self.skip.clicked.connect(self.finish)
        buttons = QHBoxLayout()
        buttons.addWidget(self.skip)
        buttons.addStretch(1)
        buttons.addWidget(self.counter)
        buttons.addWidget(self.back)
        buttons.addWidget(self.next)
        layout = QVBoxLayout(self.card)
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        layout.addLayout(buttons)
        self.card.hide()
        self.outline = _Outline(window)
        self.outline.hide()

    @property
    def showing(self) -> bool:
        return self.card.isVisible()

    def start(self, step: int = 0) -> None:
        # follows the window's resizes only while it shows: a filter on the window runs
        # Python (and waits for the GIL) at every repaint of it
        self.window.installEventFilter(self)
        self.show_step(step)
        self.next.setFocus()

    def show_step(self, step: int) -> None:
        self.step = max(0, min(step, len(STEPS) - 1))
        current = STEPS[self.step]
        self.title.setText(f"<b>{current.title}</b>")
        self.text.setText(current.text)
        self.counter.setText(f"{self.step + 1} of {len(STEPS)}")
        self.back.setEnabled(self.step > 0)
        self.next.setText("Done" if self.step == len(STEPS) - 1 else "Next")
        self._reveal(current.target)
        self.card.show()
        self.card.raise_()
        self._place()

    def finish(self) -> None:
        """Close the tour and remember it is done (skipped or finished)."""
        self.card.hide()
        self.outline.hide()
        self.window.removeEventFilter(self)
        app_settings().setValue("tourDone", True)

    def _next(self) -> None:
        if self.step == len(STEPS) - 1:
            self.finish()
        else:
            self.show_step(self.step + 1)

    def _target(self, target: str) -> QWidget:
        w = self.window
        if target.startswith("tab:"):
            return w.tabs
        if target == "train":
            return w.train_button
        return w.docks[target]

    def _reveal(self, target: str) -> None:
        w = self.window
        if target.startswith("tab:"):
            w.tabs.setCurrentIndex(int(target[4:]))
        elif target in w.docks:
            w.docks[target].show()
            w.docks[target].raise_()

    def _place(self) -> None:
        """The card at the bottom centre of the central area; the outline on the target."""
        w = self.window
        area = w.centralWidget().geometry()
        width = min(440, max(280, area.width() - 40))
        self.card.setFixedWidth(width)
        height = self.card.heightForWidth(width) if self.card.hasHeightForWidth() else 0
        height = max(height, self.card.sizeHint().height())
        x = area.x() + (area.width() - width) // 2
        y = area.y() + area.height() - height - 70
        self.card.setGeometry(x, max(area.y(), y), width, height)
        target = self._target(STEPS[self.step].target)
        top_left = target.mapTo(w, target.rect().topLeft())
        self.outline.setGeometry(QRect(top_left, target.size()).adjusted(-4, -4, 4, 4))
        self.outline.show()
        self.outline.raise_()
        self.card.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and self.showing:
            self._place()
        return False


def maybe_start(window: Any) -> None:
    """Show the tour on the first run, until it is skipped or finished."""
    if not app_settings().value("tourDone", False, type=bool):
        window.help.tour.start(0)
