"""Run history: CRUD, recording through the event sink, crash safety, and the CLI."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from studio.config import ProjectConfig
from studio.config.io import load_project, load_run_config, save_project
from studio.engine.events import CoachVerdict, EpochEnded, RunFinished, RunStarted
from studio.engine.runs.database import STORE_VERSION
from studio.engine.runs.eventlog import coach_verdict
from studio.engine.runs.recorder import RunRecorder
from studio.engine.runs.store import RunStore


def epoch(n: int, val_acc: float, best: int) -> EpochEnded:
    return EpochEnded(
        epoch=n,
        epochs=3,
        train_loss=1.0 / n,
        train_acc=0.5,
        val_loss=0.9,
        val_acc=val_acc,
        lr=0.001,
        seconds=0.1,
        images_per_second=100.0,
        best_epoch=best,
    )


def started() -> RunStarted:
    return RunStarted(
        model="small_cnn",
        device="CPU",
        classes=["a", "b"],
        train_images=8,
        val_images=2,
        epochs=3,
        batches_per_epoch=1,
    )


def test_recorder_and_crud(tmp_path: Path):
    run_dir = tmp_path / "runs" / "one"
    run_dir.mkdir(parents=True)
    (run_dir / "best.safetensors").write_bytes(b"x")
    (run_dir / "split.json").write_text(json.dumps({"counts": {"a": {"train": 4}}}))
    with RunStore(tmp_path) as store:
        recorder = RunRecorder(store, ProjectConfig().model_dump(mode="json"), run_dir)
        for event in (started(), epoch(1, 0.5, 1), epoch(2, 0.8, 2), epoch(3, 0.7, 2)):
            recorder(event)
        recorder(RunFinished(status="finished", best_epoch=2, best_val_acc=0.8, seconds=1.0))
        (run,) = store.runs()
        assert run.id == recorder.run_id and run.status == "finished"
        assert run.name == f"Run {run.id} · small_cnn"
        assert run.best_epoch == 2 and run.best_metrics["val_acc"] == 0.8
        assert run.device == "CPU" and run.duration is not None and run.ended_at
        assert run.split["counts"] == {"a": {"train": 4}} and run.split["train_images"] == 8
        assert set(run.versions) == {"torch", "torchvision", "albumentations", "studio"}
        assert run.artifacts["best.safetensors"] == str(run_dir / "best.safetensors")
        assert run.config["train"]["epochs"] == ProjectConfig().train.epochs
        assert [e["epoch"] for e in store.epochs(run.id)] == [1, 2, 3]
        store.rename(run.id, "  baseline ")
        store.annotate(run.id, "first try")
        assert store.get(run.id).name == "baseline" and store.get(run.id).notes == "first try"
        outside = tmp_path.parent / "not-in-project"
        outside.mkdir(exist_ok=True)
        other = store.create_run({}, outside)
        store.delete(other)  # forgotten, but a folder outside the project is never removed
        assert outside.is_dir()
        store.delete(run.id)
        assert store.runs() == [] and store.epochs(run.id) == [] and not run_dir.exists()
        assert store.check() == "ok"


def test_the_coach_verdict_is_recorded_and_an_older_history_gains_it(tmp_path: Path):
    with RunStore(tmp_path / "new") as store:
        recorder = RunRecorder(store, {}, None)
        recorder(started())
        recorder(CoachVerdict(text="Overfitting from epoch 4.", signals=["val_loss_rising"]))
        assert store.get(recorder.run_id).verdict == "Overfitting from epoch 4."
    run_dir = tmp_path / "old" / "runs" / "one"  # a history written before verdicts were kept
    run_dir.mkdir(parents=True)
    verdict = CoachVerdict(text="Stopped early; epoch 7 kept.", signals=[], stopped_early=True)
    (run_dir / "events.jsonl").write_text(json.dumps(verdict.to_dict()) + "\n")
    with sqlite3.connect(tmp_path / "old" / "runs.sqlite") as db:
        db.execute(
            "CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, "
            "status TEXT NOT NULL, started_at REAL NOT NULL, ended_at REAL, duration REAL, "
            "config TEXT NOT NULL, split TEXT NOT NULL DEFAULT '{}', device TEXT NOT NULL "
            "DEFAULT '', model TEXT NOT NULL DEFAULT '', best_epoch INTEGER, best_metrics TEXT "
            "NOT NULL DEFAULT '{}', versions TEXT NOT NULL DEFAULT '{}', notes TEXT NOT NULL "
            "DEFAULT '', message TEXT NOT NULL DEFAULT '', run_dir TEXT NOT NULL DEFAULT '', "
            "artifacts TEXT NOT NULL DEFAULT '{}', pid INTEGER, host TEXT NOT NULL DEFAULT '')"
        )
        db.execute(
            "INSERT INTO runs (name, status, started_at, config, run_dir) VALUES (?, ?, ?, ?, ?)",
            ("old run", "finished", 1.0, "{}", str(run_dir)),
        )
        db.execute("PRAGMA user_version=1")
    db.close()
    with RunStore(tmp_path / "old") as store:
        (run,) = store.runs()
        assert run.name == "old run" and run.verdict == "Stopped early; epoch 7 kept."
        assert store._db.execute("PRAGMA user_version").fetchone()[0] == STORE_VERSION == 2
        assert store.check() == "ok"


def test_a_running_run_of_a_dead_process_becomes_interrupted(tmp_path: Path):
    with RunStore(tmp_path) as store:
        mine = store.create_run({}, "")
    with RunStore(tmp_path) as store:  # our own process is alive: still running
        assert store.get(mine).status == "running" and store.interrupted == []
    with sqlite3.connect(tmp_path / "runs.sqlite") as db:
        db.execute("UPDATE runs SET pid=999999999 WHERE id=?", (mine,))
    db.close()
    with RunStore(tmp_path) as store:
        assert store.interrupted == [mine]
        assert store.get(mine).status == "interrupted"


def make_project(folder: Path, dataset: Path, epochs: int) -> Path:
    config = ProjectConfig()
    config.data.sources = [dataset]
    config.train.epochs = epochs
    config.train.image_size = 16
    config.train.batch_size = 8
    config.train.num_workers = 0
    config.train.device = "cpu"
    config.user_set = ["train.batch_size", "train.epochs", "train.image_size"]  # the user's
    save_project(folder, config)
    return folder


def test_cli_trains_a_project_and_lists_its_runs(dataset: Path, tmp_path: Path, capsys):
    project = make_project(tmp_path / "proj", dataset, epochs=2)
    code, out, err = cli(capsys, "train", str(project), "--quiet")
    assert code == 0, err
    assert "Run finished" in out
    (run_dir,) = (project / "runs").iterdir()
    assert (run_dir / "best.safetensors").is_file() and (run_dir / "events.jsonl").is_file()
    assert cli(capsys, "runs", str(project), "--json")[0] == 0
    (run,) = json.loads(capsys.readouterr().out)
    assert run["status"] == "finished" and run["run_dir"] == str(run_dir)
    assert [e["epoch"] for e in run["epochs"]] == [1, 2]
    assert run["config"] == load_run_config(run_dir).model_dump(mode="json")
    saved = load_project(project).config.model_dump(mode="json")
    assert run["config"] == saved | {"user_set": run["config"]["user_set"]}  # as saved, and
    assert {"train.image_size", "train.epochs"} <= set(run["config"]["user_set"])  # the user's
    assert run["verdict"] and run["verdict"] == coach_verdict(run_dir)  # the coach's, kept
    code, out, _ = cli(capsys, "runs", str(project))
    assert code == 0 and "finished" in out and run["name"] in out
    assert f"coach: {run['verdict']}" in out
    code, _, err = cli(capsys, "train", str(project), "--data", str(dataset))
    assert code == 2 and "not both" in err
    code, _, err = cli(capsys, "train", str(project), "--epochs", "9")
    assert code == 2 and "--epochs" in err and "Traceback" not in err
    code, _, err = cli(capsys, "runs", str(tmp_path))
    assert code == 2 and "not a Studio project" in err
    code, _, err = cli(capsys, "train")
    assert code == 2 and "--data DIR, a PROJECT_DIR" in err


def cli(capsys, *args: str) -> tuple[int, str, str]:
    from studio.cli.main import main

    code = main(list(args))
    captured = capsys.readouterr() if args[-1] != "--json" else None
    return code, captured.out if captured else "", captured.err if captured else ""


def test_sigkill_mid_epoch_leaves_a_healthy_db_and_an_interrupted_run(
    dataset: Path, tmp_path: Path
):
    project = make_project(tmp_path / "proj", dataset, epochs=500)
    env = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1"}
    child = subprocess.Popen(
        [sys.executable, "-m", "studio", "train", str(project)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        for line in child.stdout:  # the first epoch line is printed after it is recorded
            if line.startswith("epoch"):
                break
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    with RunStore(project) as store:
        assert store.check() == "ok"
        (run,) = store.runs()
        assert run.status == "interrupted" and store.interrupted == [run.id]
        assert run.resumable  # the last checkpoint was written after the first epoch
        assert len(store.epochs(run.id)) >= 1 and run.best_epoch is not None


def test_config_differences_lists_only_what_differs():
    from studio.engine.runs.config_diff import config_differences

    a = ProjectConfig().model_dump(mode="json")
    b = ProjectConfig().model_dump(mode="json")
    b["train"]["learning_rate"] = 0.01
    b["augment"]["rotate"]["degrees"] = 20.0
    assert config_differences([a, b, a]) == {
        "augment.rotate.degrees": [10.0, 20.0, 10.0],
        "train.learning_rate": [0.001, 0.01, 0.001],
    }


def test_a_damaged_database_or_project_file_is_one_clear_line(tmp_path: Path, capsys):
    import pytest

    from studio.cli.main import main
    from studio.errors import StudioError

    (tmp_path / "runs.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StudioError, match=r"run history .* is damaged"):
        RunStore(tmp_path)
    (tmp_path / "runs.sqlite").unlink()
    RunStore(tmp_path).close()
    with sqlite3.connect(tmp_path / "runs.sqlite") as db:
        db.execute("PRAGMA user_version=99")
    db.close()
    with pytest.raises(StudioError, match="from a newer Studio"):
        RunStore(tmp_path)
    save_project(tmp_path / "p", ProjectConfig())
    path = tmp_path / "p" / "studio-project.toml"
    path.write_text(path.read_text().replace("[train]", "[train"))
    assert main(["train", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert "not valid TOML" in err and "line" in err and len(err.strip().splitlines()) == 1
