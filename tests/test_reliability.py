"""Reliability: no run is ever overwritten, and every bad input or fault gets one plain line
(in-process ``studio …`` calls, a subprocess where the process itself matters)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_dataset

from studio.cli.main import main
from studio.engine.runs import files


def train_args(data: Path, out: Path, *extra: str) -> list[str]:
    return [
        "train", "--data", str(data), "--model", "small_cnn", "--epochs", "1",
        "--batch-size", "8", "--image-size", "32", "--weights", "none", "--seed", "1",
        "--quiet", "--out", str(out), *extra,
    ]  # fmt: skip


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished run, copied by the tests that tamper with it."""
    root = tmp_path_factory.mktemp("trained")
    out = root / "run"
    assert main(train_args(make_dataset(root / "data"), out)) == 0
    return out


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_out_onto_an_existing_run_is_refused_unchanged(trained, dataset, tmp_path, capsys):
    run = shutil.copytree(trained, tmp_path / "run")
    before = snapshot(run)
    capsys.readouterr()
    assert main(train_args(dataset, run)) == 2
    line = one_line(capsys.readouterr().err)
    assert "already holds a run" in line and "--resume" in line
    assert snapshot(run) == before  # no second run mixed into its events, model kept


def test_a_run_folder_owned_by_a_live_process_is_refused(dataset, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / files.LOCK).write_text(f"{os.getppid()}\n")  # a live process that is not us
    assert main(train_args(dataset, out)) == 2
    assert "in use by another training" in one_line(capsys.readouterr().err)
    assert (out / files.LOCK).read_text().strip() == str(os.getppid())  # still theirs
    assert not (out / files.EVENTS).exists()


def test_a_stale_lock_is_taken_over_and_released_at_the_end(dataset, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "run"
    out.mkdir()
    (out / files.LOCK).write_text(f"{dead.pid}\n")
    assert main(train_args(dataset, out)) == 0
    assert not (out / files.LOCK).exists()
    assert (out / files.BEST).is_file()


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--workers", "-3"], "loader workers"),
        (["--workers", "many"], "--workers"),
        (["--seed", "4294967296"], "seed"),
    ],
)
def test_bad_settings_get_one_line(dataset, tmp_path, capsys, extra, words):
    assert main(train_args(dataset, tmp_path / "run", *extra)) == 2
    assert words in one_line(capsys.readouterr().err)


def test_no_validation_images_is_refused_before_training(tmp_path, capsys):
    data = make_dataset(tmp_path / "data", per_class=1)
    out = tmp_path / "run"
    assert main(train_args(data, out, "--val-fraction", "0.05")) == 2
    assert "No validation images" in one_line(capsys.readouterr().err)
    assert not (out / files.BEST).exists()


def test_a_run_folder_that_cannot_be_created_is_one_line(dataset, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")  # like read-only storage: mkdir fails
    assert main(train_args(dataset, blocker / "run")) == 2
    assert "Cannot create the run folder" in one_line(capsys.readouterr().err)


def test_ctrl_c_during_start_up_exits_quietly(dataset, tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("studio.cli.train.resolved", interrupted)
    assert main(train_args(dataset, tmp_path / "run")) == 130
    assert one_line(capsys.readouterr().err) == "studio: interrupted"


def test_a_closed_pipe_exits_quietly(monkeypatch, capsys):
    """``studio models | head -1``: the reader is gone before Studio writes."""
    read, write = os.pipe()
    os.close(read)
    with os.fdopen(write, "w") as pipe:
        monkeypatch.setattr(sys, "stdout", pipe)
        assert main(["models"]) == 1
        monkeypatch.undo()
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("size", [0, 100000, "224", True])
def test_a_tampered_model_json_is_one_line(trained, tmp_path, capsys, size):
    run = shutil.copytree(trained, tmp_path / "run")
    meta = json.loads((run / files.MODEL).read_text())
    (run / files.MODEL).write_text(json.dumps({**meta, "image_size": size}))
    assert main(["evaluate", str(run), "--device", "cpu"]) == 2
    assert "image_size must be 16–1024" in one_line(capsys.readouterr().err)


def test_a_split_json_that_is_a_list_is_one_line(trained, tmp_path, capsys):
    run = shutil.copytree(trained, tmp_path / "run")
    (run / files.SPLIT).write_text("[1, 2, 3]")
    assert main(["evaluate", str(run), "--device", "cpu"]) == 2
    assert "split.json is damaged" in one_line(capsys.readouterr().err)


def test_the_default_run_folder_is_studios_never_the_current_directory(
    dataset, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    args = train_args(dataset, tmp_path)
    assert main(args[: args.index("--out")]) == 0
    assert not (tmp_path / "runs").exists()
    runs = Path(os.environ["STUDIO_HOME"]) / "runs"
    (run,) = [p for p in runs.iterdir() if p.is_dir()]  # beside it: the history of such runs
    assert f"Run folder: {run}" in capsys.readouterr().out and (run / files.BEST).is_file()


def test_a_run_that_fails_mid_way_says_why_once_and_logs_it(dataset, tmp_path, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("the device went away")

    monkeypatch.setattr("studio.engine.training.trainer._epoch", broken)
    out = tmp_path / "run"
    assert main(train_args(dataset, out)) == 1
    assert one_line(capsys.readouterr().err) == "studio: error: RuntimeError: the device went away"
    events = [json.loads(line) for line in (out / files.EVENTS).read_text().splitlines()]
    assert events[0]["event"] == "run_started" and events[-1]["event"] == "run_finished"
    assert events[-1]["status"] == "failed" and "device went away" in events[-1]["message"]
    assert not (out / files.LOCK).exists()
