"""Run in a subprocess by test_window_fits.py: open Studio as ``studio`` does on a screen of
the given size and scale, and print (as JSON) where the main controls of every dock lie."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path


def configure(width: int, height: int, scale: float) -> None:
    """An offscreen screen of ``width`` × ``height`` physical pixels at ``scale``."""
    config = Path(tempfile.mkdtemp()) / "screen.json"
    screen = {"name": "probe", "x": 0, "y": 0, "width": width, "height": height}
    screen |= {"logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}
    config.write_text(json.dumps({"windowFrameMargins": False, "screens": [screen]}))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
    os.environ["QT_SCALE_FACTOR"] = str(scale)
    os.environ["NO_ALBUMENTATIONS_UPDATE"] = "1"


CONTROLS = {  # dock -> its main controls (object names)
    None: ["trainButton", "welcomeText"],
    "datasetBrowser": ["addFolderButton"],
    "modelPicker": ["modelTable", "weightsInput", "strategyInput"],
    "augmentationPreview": ["augmentPresetInput", "augmentRerollButton"],
    "hyperparameterPanel": ["trainingPresetInput", "epochsInput", "learningRateInput"],
}


def probe() -> dict:
    from PySide6.QtCore import QPoint, QRect
    from PySide6.QtWidgets import QAbstractScrollArea, QLabel, QWidget

    from studio.qt.app import create_app, show_main_window

    app = create_app([])
    window = show_main_window(app)
    window.plots.build()
    app.processEvents()
    screen = window.screen().availableGeometry()
    out: dict = {"screen": screen.getRect(), "mode": window.layout_mode, "controls": {}}
    hint = window.minimumSizeHint()
    out["minimum"] = [hint.width(), hint.height()]
    out["window"] = window.frameGeometry().getRect()

    def place(widget: QWidget) -> dict:
        rect = QRect(widget.mapToGlobal(QPoint(0, 0)), widget.size())
        painted = widget.viewport() if isinstance(widget, QAbstractScrollArea) else widget
        seen = painted.visibleRegion().boundingRect()
        return {
            "inside": screen.contains(rect),
            "shown": widget.isVisible() and seen.width() >= min(widget.width(), 40),
            "rect": rect.getRect(),
        }

    for dock, names in CONTROLS.items():
        if dock:
            window.docks[dock].raise_()
        app.processEvents()
        for name in names:
            widget = window.findChild(QWidget, name)
            out["controls"][name] = place(widget)
            if isinstance(widget, QLabel) and widget.wordWrap():
                needed = widget.heightForWidth(widget.width())
                out["controls"][name]["whole"] = widget.height() >= needed
    window.stack.setCurrentWidget(window.plots)
    app.processEvents()
    for name in ("lossPlot", "accuracyPlot"):
        out["controls"][name] = place(window.findChild(QWidget, name))
    window.docks["modelPicker"].raise_()
    app.processEvents()
    label = window.findChild(QLabel, "resolvedSettings")
    out["resolved_whole"] = label.height() >= label.heightForWidth(label.width())
    out["results"] = results_fit(app, window)
    return out


RESULTS_BUTTONS = ["openRunButton", "markWrongLabelButton", "exportMarksButton", "exportButton"]


def results_fit(app, window) -> dict:
    """The Results tab showing a five-class result: whether it scrolls sideways, and whether
    its buttons lie across the tab's visible width."""
    from PySide6.QtCore import QPoint, QRect
    from PySide6.QtWidgets import QScrollArea, QWidget

    classes = ["zero", "one", "two", "three", "four"]
    scores = {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    result = {
        "classes": classes,
        "per_class": [{"class": c, **scores, "support": 35} for c in classes],
        "macro": scores,
        "weighted": scores,
        "count": 175,
        "confusion": [[35 * (t == p) for p in range(5)] for t in range(5)],
        "confusion_normalised": [[1.0 * (t == p) for p in range(5)] for t in range(5)],
    }
    panel = window.results
    panel.metrics.show_result(result)
    panel.matrix.show_result(result)
    window.tabs.setCurrentWidget(panel)
    app.processEvents()
    viewport = panel.findChild(QScrollArea).viewport()
    seen = QRect(viewport.mapToGlobal(QPoint(0, 0)), viewport.size())
    across = {}
    for name in RESULTS_BUTTONS:
        button = panel.findChild(QWidget, name)
        left = button.mapToGlobal(QPoint(0, 0)).x()
        across[name] = seen.left() <= left and left + button.width() <= seen.right() + 1
    scrolls = panel.findChild(QScrollArea).horizontalScrollBar().isVisible()
    return {"scrolls_sideways": scrolls, "buttons_across": across}


if __name__ == "__main__":
    configure(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))
    os.environ["STUDIO_HOME"] = sys.argv[4]
    print(json.dumps(probe()))
