"""Screenshots of the window as a user sees it: the sample trained for a few epochs, in a
chosen theme, at the scale given by ``QT_SCALE_FACTOR``. Run under a real X server (Xvfb):

    QT_SCALE_FACTOR=1.5 xvfb-run -s "-screen 0 1920x1080x24" \\
        uv run python packaging/screenshots.py --theme dark --out shots/dark-150.png

``--tab all`` saves every tab (``shots/NAME-training.png``, ``shots/NAME-results.png``…).

After training, the Results tab shows its first mistake (or, with none, a cell of correct
answers) with its Grad-CAM, the Try tab one sample image, classified, and the Label issues
tab a quick two-fold search (every image by score when none looks mislabelled).

Runs go to a temporary ``STUDIO_HOME``; nothing of the user's is touched.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, required=True, help="PNG file to write (with --tab all: NAME-TAB.png)"
    )
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument(
        "--tab", default="Training", help="tab to show: Training, Results, …, or 'all'"
    )
    parser.add_argument("--tour", action="store_true", help="show the tour's first step")
    args = parser.parse_args()
    os.environ["STUDIO_HOME"] = tempfile.mkdtemp(prefix="studio-shots-")
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

    from PySide6.QtWidgets import QSpinBox

    from studio.qt.app import create_app, show_main_window
    from studio.qt.smoke import _wait
    from studio.qt.theme import theme

    app = create_app(sys.argv[:1])
    theme().set_mode(args.theme)
    window = show_main_window(app)
    window.finish_startup()
    _wait(window.device_detected, seconds=600)  # torch loads slowly on a busy machine
    window.use_sample_dataset()
    _wait(window.model.dataset_changed, lambda index: len(index) > 0, 60)
    if args.epochs:
        window.findChild(QSpinBox, "epochsInput").setValue(args.epochs)
        window.findChild(QSpinBox, "imageSizeInput").setValue(32)
        evaluated = window.results.evaluated
        window.start_training()
        _wait(window.controller.run_finished)
        _wait(evaluated)  # the Results tab evaluates the best epoch next
        show_examples(app, window)
    tabs = window.tabs
    for index in range(tabs.count()):
        name = tabs.tabText(index).split(" (")[0].split(" ✓")[0]
        if args.tab not in ("all", name) and not name.startswith(args.tab):
            continue
        tabs.setCurrentIndex(index)
        if args.tour:
            window.help.tour.start(0)
        settle(app, window)
        slug = name.lower().replace(" ", "-")
        out = args.out.with_name(f"{args.out.stem}-{slug}.png") if args.tab == "all" else args.out
        save_small(window.grab().toImage(), out)
        ratio = window.devicePixelRatio()
        print(f"{out}: {window.width()}x{window.height()} at {ratio:g}x ({args.theme})")
    window.close()
    return 0


def show_examples(app, window) -> None:
    """What a user looks at after a run: a mistake (or a right answer) and its Grad-CAM on
    the Results tab, one sample image tried on the Try tab."""
    from studio.qt.smoke import _wait

    results = window.results
    result = results.result
    if not any(im["true"] != im["predicted"] for im in result["images"]):
        first = result["classes"][0]
        results.mistakes.show_cell(first, first)
    deadline = time.monotonic() + 20
    gallery = results.gallery
    while time.monotonic() < deadline and not (gallery.count() and gallery.item(0).icon()):
        app.processEvents()  # the thumbnails load on a worker
        time.sleep(0.05)
    if gallery.count():
        gallery.setCurrentRow(0)
        _wait(results.cam_ready, seconds=60)
    sample = window.model.index.paths[len(window.model.index.paths) // 2]
    results.try_panel.try_paths([sample])
    _wait(results.try_panel.tried, seconds=60)
    issues = window.label_issues
    issues.folds.setValue(2)
    issues.find()
    _wait(issues.found, seconds=300)
    if not issues.report.flagged:  # nothing mislabelled: list the images by score instead
        issues.show_all.setChecked(True)
    _wait(issues.thumbnails_ready, seconds=60)


def settle(app, window, seconds: float = 20) -> None:
    """Let previews, thumbnails (decoded on workers) and late layouts arrive."""
    grid = window.browser.grid_model
    images = window.tabs.currentWidget() is window.browser.images_page
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        if not images or len(grid.cache) >= min(16, grid.rowCount()):
            break
        time.sleep(0.05)
    for _ in range(20):
        app.processEvents()


def save_small(image, out: Path) -> None:
    """Save a grab as a 256-colour PNG: a window of flat colours loses nothing visible, and
    the file is a fraction of the size."""
    from PIL import Image
    from PySide6.QtCore import QBuffer, QIODevice

    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    picture = Image.open(io.BytesIO(bytes(buffer.data()))).convert("RGB")
    out.parent.mkdir(parents=True, exist_ok=True)
    picture.quantize(256, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)


if __name__ == "__main__":
    sys.exit(main())
