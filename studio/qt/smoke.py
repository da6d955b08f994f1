"""``studio --smoke-test``: what a first-time user does, timed — open the window, load the
sample digits, train one epoch through the window. ``packaging/build.sh`` runs it on the bundle.

Prints one line per step and exits 0 only when the epoch finished. ``STUDIO_SMOKE_T0`` (Unix
time, set by the caller just before launching) makes "time to window" include process start-up.
Runs go under ``$STUDIO_HOME`` like the window's; set it to a temporary folder.
"""

from __future__ import annotations

import os
import time

from PySide6.QtCore import QEventLoop, QTimer, SignalInstance
from PySide6.QtWidgets import QSpinBox

from studio.qt.app import create_app, show_main_window

TIMEOUT_S = 600


def _wait(signal: SignalInstance, accept=lambda *args: True, seconds: float = TIMEOUT_S) -> tuple:
    """Run the event loop until ``signal`` fires with arguments ``accept`` likes."""
    loop = QEventLoop()
    got: list[tuple] = []

    def fired(*args) -> None:
        if accept(*args):
            got.append(args)
            loop.quit()

    signal.connect(fired)
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
    signal.disconnect(fired)
    if not got:
        raise TimeoutError(f"nothing after {seconds:.0f} s")
    return got[0]


def run() -> int:
    launched = float(os.environ.get("STUDIO_SMOKE_T0") or time.time())
    app = create_app()
    window = show_main_window(app)
    print(f"smoke: window on screen {time.time() - launched:.2f} s after launch", flush=True)
    window.finish_startup()
    try:
        started = time.perf_counter()
        QTimer.singleShot(0, window.use_sample_dataset)
        (index,) = _wait(window.model.dataset_changed, lambda index: len(index) > 0, 60)
        print(
            f"smoke: sample loaded, {len(index)} images in {len(index.classes)} classes "
            f"({time.perf_counter() - started:.2f} s)",
            flush=True,
        )
        window.findChild(QSpinBox, "epochsInput").setValue(1)
        started = time.perf_counter()
        QTimer.singleShot(0, window.start_training)
        (event,) = _wait(window.controller.run_finished)
    except TimeoutError as exc:
        print(f"smoke: FAILED, {exc}", flush=True)
        return 1
    finally:
        window.close()
    accuracy = f"{event.best_val_acc:.1%}" if event.best_val_acc is not None else "none"
    print(
        f"smoke: 1 epoch {event.status} in {time.perf_counter() - started:.1f} s, "
        f"validation accuracy {accuracy}{': ' + event.message if event.message else ''}",
        flush=True,
    )
    return 0 if event.status == "finished" else 1
