"""One run session for every front end: closing the window mid-run (set-up, epoch, evaluation)
records "stopped" and keeps the best epoch, a stop during set-up is quick, and the window and
``studio train`` write the same run folder."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import TRAIN_TIMEOUT, close_window, drop_folders, open_window, set_knobs, settle
from PIL import Image
from PySide6.QtCore import QTimer

from studio.cli.main import main as cli_main
from studio.config.io import read_path
from studio.engine.control import StopToken
from studio.engine.events import RunStatus
from studio.engine.runs import files
from studio.engine.runs.eventlog import read_events
from studio.engine.runs.store import RunStore
from studio.engine.training.session import RunSession


@pytest.fixture(scope="session")
def large_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 tiny distinct PNGs in two classes, written once per test session."""
    root = tmp_path_factory.mktemp("large")
    rng = np.random.default_rng(0)
    for name in ("left", "right"):
        (root / name).mkdir()
        for i in range(1500):
            pixels = rng.integers(0, 255, size=(4, 4, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i:04d}.png", compress_level=0)
    return root


def history(project: Path) -> list:
    with RunStore(project) as store:
        return store.runs()


def project_window(qtbot, tmp_path: Path, data: Path, epochs: int):
    win = open_window(qtbot)
    assert win.project.new(tmp_path / "project")
    drop_folders(qtbot, win, [data])
    set_knobs(win, epochs=epochs, image_size=16)
    return win


def assert_stopped_run(project: Path, best_epoch: int | None) -> None:
    (run,) = history(project)
    assert run.status == RunStatus.STOPPED and run.best_epoch == best_epoch
    events = read_events(Path(run.run_dir) / files.EVENTS)
    assert events[-1]["event"] == "run_finished" and events[-1]["status"] == "stopped"
    assert events[-1]["best_epoch"] == best_epoch
    if best_epoch is not None:
        assert (Path(run.run_dir) / files.BEST).is_file()
        assert [e["epoch"] for e in RunStore(project).epochs(run.id)][:best_epoch]


def test_closing_during_set_up_records_a_stopped_run(qtbot, tmp_path: Path, dataset: Path):
    win = project_window(qtbot, tmp_path, dataset, epochs=50)
    win.start_training()  # the worker is setting up: scanning, hashing, building the model
    close_window(qtbot, win)
    assert_stopped_run(tmp_path / "project", best_epoch=None)


def test_closing_during_an_epoch_keeps_the_best_epoch(qtbot, tmp_path: Path, dataset: Path):
    win = project_window(qtbot, tmp_path, dataset, epochs=50)
    with qtbot.waitSignal(win.controller.epoch_ended, timeout=TRAIN_TIMEOUT):
        win.start_training()
    with qtbot.waitSignal(win.controller.batches_ended, timeout=TRAIN_TIMEOUT):
        pass  # epoch 2 is under way
    close_window(qtbot, win)
    (run,) = history(tmp_path / "project")
    assert_stopped_run(tmp_path / "project", best_epoch=run.best_epoch)
    assert run.best_epoch is not None and run.best_epoch >= 1


def test_closing_during_the_results_evaluation(qtbot, tmp_path: Path, dataset: Path):
    win = project_window(qtbot, tmp_path, dataset, epochs=1)
    evaluating = []

    def close(task) -> None:  # in the next pass: the Results tab has just started evaluating
        if task.title.startswith("Evaluating"):
            QTimer.singleShot(0, lambda: (evaluating.append(win.model.tasks.busy), win.close()))

    win.model.tasks.task_started.connect(close)
    with qtbot.waitSignal(win.closed, timeout=TRAIN_TIMEOUT):
        win.start_training()
    assert evaluating == [True]
    assert not win.controller.running and not win.model.tasks.busy
    (run,) = history(tmp_path / "project")
    assert run.status == RunStatus.FINISHED and run.best_epoch == 1


class StopsAfter(StopToken):
    """Asks to stop at its ``n``-th check, noting when."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.calls, self.n, self.asked = 0, n, 0.0

    def should_stop(self) -> bool:
        self.calls += 1
        if self.calls == self.n:
            self.asked = time.perf_counter()
            self.stop()
        return super().should_stop()


def test_stop_during_set_up_of_a_large_folder_is_quick(large_folder: Path, tmp_path: Path):
    from studio.config import ProjectConfig

    config = ProjectConfig()
    config.data.sources = [large_folder]
    config.train.device = "cpu"
    for n in (100, 3100):  # while probing the files, then while hashing them
        token = StopsAfter(n)
        session = RunSession(config, runs_root=tmp_path / "runs", project=tmp_path)
        final = session.run(lambda event: None, token)
        assert time.perf_counter() - token.asked < 1.0
        assert final.status == RunStatus.STOPPED and session.started is None
        assert history(tmp_path)[0].status == RunStatus.STOPPED


def test_stop_button_during_set_up_in_the_window(qtbot, large_folder: Path):
    win = open_window(qtbot)
    drop_folders(qtbot, win, [large_folder])
    qtbot.waitUntil(lambda: not win.model.tasks.busy, timeout=60_000)  # the health check…
    with qtbot.waitSignal(win.controller.run_finished, timeout=5_000) as blocker:
        win.start_training()
        started = time.perf_counter()
        win.stop_button.click()
    assert time.perf_counter() - started < 1.0
    settle(qtbot)  # the window shows the run's end
    assert blocker.args[0].status == RunStatus.STOPPED
    assert win.progress_label.text() == "Stopped"


def test_window_and_cli_write_the_same_run_folder(qtbot, tmp_path: Path, dataset: Path, capsys):
    win = open_window(qtbot)
    drop_folders(qtbot, win, [dataset])
    set_knobs(win, epochs=2, image_size=16)
    with qtbot.waitSignal(win.controller.run_finished, timeout=TRAIN_TIMEOUT):
        win.start_training()
    settle(qtbot)  # the window shows the run's end
    gui_dir = win.last_run_dir
    cli_dir = tmp_path / "cli-run"
    args = ["train", "--data", str(dataset), "--epochs", "2", "--image-size", "16"]
    assert cli_main([*args, "--batch-size", "8", "--out", str(cli_dir), "--quiet"]) == 0

    def listing(run_dir: Path) -> tuple[set[str], list[str]]:
        events = [e["event"] for e in read_events(run_dir / files.EVENTS)]
        names = {p.name for p in run_dir.iterdir() if not p.name.startswith(files.RESULTS)}
        return names, [e for e in events if e != "batch_ended"]

    assert listing(gui_dir) == listing(cli_dir)
    assert set(files.RUN_FILES) <= listing(cli_dir)[0]

    def split(run_dir: Path) -> dict:  # the same files, each stored relative to its run
        data = json.loads((run_dir / files.SPLIT).read_text())
        listed = {k: [str(read_path(n, run_dir)) for n in v] for k, v in data["files"].items()}
        return {**data, "files": listed}

    assert split(gui_dir) == split(cli_dir)


def test_task_runner_waits_for_every_thread_within_one_deadline(qtbot):
    import threading

    from studio.qt.tasks import TaskRunner

    release = threading.Event()
    tasks = TaskRunner()
    with qtbot.waitSignal(tasks.idle, timeout=10_000):
        for _ in range(3):
            tasks.start(release.wait)
        started = time.perf_counter()
        assert not tasks.wait_all(300)  # three stuck threads share one 0.3 s deadline
        assert time.perf_counter() - started < 0.6 and tasks.busy
        release.set()
        assert tasks.wait_all(10_000) and not tasks.busy
