"""What the central area shows before any image is loaded: what to do, and a sample to try."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from studio.qt.fit import frameless_scroll

STEPS = """
<h1 align='center' style='font-weight:600'>Train an image classifier</h1>
<p style='font-size:15px'>
<b>1.</b> Drop folders of images anywhere on this window: one folder per class,
or a folder of class folders.<br>
<b>2.</b> Check the classes on the left; preview augmentations, pick a model and the
knobs on the right.<br>
<b>3.</b> Click <b>Train</b> and watch the <b>validation</b> curves: they tell how well the model
will do on pictures it has never seen.</p>
<p align='center' style='color:gray'>Clean data + a pre-trained model + fine-tuning = good results.
Start simple.</p>
"""


class WelcomePanel(QWidget):
    sample_requested = Signal()
    add_folder_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcomePanel")
        self.text = text = QLabel(STEPS)
        text.setObjectName("welcomeText")
        text.setWordWrap(True)  # wraps to any width; its height follows, so nothing is cut
        text.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        text.setMaximumWidth(680)
        text.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        centred = QHBoxLayout()
        centred.addStretch(1)
        centred.addWidget(text, 100)
        centred.addStretch(1)
        sample = QPushButton("Try the sample dataset (handwritten digits)")
        sample.setObjectName("useSampleButton")
        sample.setProperty("primary", True)
        sample.setToolTip(
            "900 real handwritten digits in 5 classes; trains in under a minute on a CPU."
        )
        sample.clicked.connect(self.sample_requested)
        add = QPushButton("Add folder…")
        add.setObjectName("welcomeAddFolderButton")
        add.clicked.connect(self.add_folder_requested)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(sample)
        buttons.addWidget(add)
        buttons.addStretch(1)
        drop = QLabel("⬇  Drop image folders here")
        drop.setObjectName("dropTarget")
        drop.setAlignment(Qt.AlignmentFlag.AlignCenter)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        layout.addLayout(centred)
        layout.addSpacing(12)
        layout.addLayout(buttons)
        layout.addSpacing(24)
        layout.addWidget(drop, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(frameless_scroll(page))  # a short window scrolls the steps, uncut
