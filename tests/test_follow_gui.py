"""File → Follow run…: the window follows a ``studio train`` running in another process, live,
and its Stop button stops that process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import TRAIN_TIMEOUT, settle

from studio.engine.events import RunStatus
from studio.qt.panels.coach_banner import OVERFIT


def test_window_follows_a_cli_run_live_and_stops_it(qtbot, window, noise_dataset: Path, tmp_path):
    run = tmp_path / "run"
    run.mkdir()  # a folder chosen before the run starts writing it
    args = ["--data", str(noise_dataset), "--out", str(run), "--model", "small_cnn"]
    args += ["--weights", "none", "--augment", "none", "--lr", "0.003", "--epochs", "60"]
    args += ["--image-size", "16", "--batch-size", "8", "--quiet"]
    # no early stopping or warm-up: the run must go on overfitting until the Stop click
    args += ["--set", "train.early_stopping=false", "--set", "train.warmup_epochs=0"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio", "train", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1"},
    )
    try:
        window.follow_run(run)
        assert window.training and not window.pause_button.isEnabled()
        val_loss = window.plots.series[("loss", "val")]
        # the other process first imports torch and sets up: on a busy machine, a while
        qtbot.waitUntil(lambda: len(val_loss) >= 1, timeout=2 * TRAIN_TIMEOUT)
        assert proc.poll() is None  # the first point is there while the run goes on
        qtbot.waitUntil(lambda: len(val_loss) >= 2, timeout=TRAIN_TIMEOUT)
        qtbot.waitUntil(lambda: bool(set(window.banner.active) & OVERFIT), timeout=TRAIN_TIMEOUT)
        assert "memoris" in window.banner.detail.text()
        with qtbot.waitSignal(window.controller.run_finished, timeout=TRAIN_TIMEOUT) as ended:
            window.stop_button.click()  # the request goes through the run folder
        settle(qtbot)  # the window shows the run's end
        assert proc.wait(timeout=60) == 1, proc.stderr.read().decode()
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()
    final = ended.args[0]
    assert final.status == RunStatus.STOPPED and final.best_epoch is not None
    assert window.progress_label.text() == "Stopped"
    assert window.tabs.currentWidget() is window.results  # the best model, evaluated
    assert window.results.verdict.text().startswith("Coach:")
