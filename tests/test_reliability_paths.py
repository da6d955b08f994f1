"""Reliability of stored paths and history: a project moved with its images, opened from any
directory, still evaluates and resumes; every resume, from the CLI too, updates the history."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import make_dataset

from studio.cli.main import main
from studio.config import ProjectConfig
from studio.config.io import save_project
from studio.config.schema import SETTINGS
from studio.engine.runs import files
from studio.engine.runs.store import DB_FILE, RunStore


@pytest.fixture(scope="module")
def project_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project (``work/proj``) beside its images (``work/data``) with one finished run."""
    work = tmp_path_factory.mktemp("work")
    config = ProjectConfig()
    config.data.sources = [make_dataset(work / "data")]
    config.model.name, config.model.weights = "small_cnn", "none"
    config.train.epochs, config.train.image_size, config.train.batch_size = 1, 16, 8
    config.train.num_workers, config.train.device = 0, "cpu"
    config.user_set = sorted(SETTINGS)  # as a user's project: nothing derived differently
    save_project(work / "proj", config)
    assert main(["train", str(work / "proj"), "--quiet"]) == 0
    return work


def moved(project_run: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the project and its images somewhere else (split files found under the old
    path would not match the images scanned under the new one)."""
    work = shutil.copytree(project_run, tmp_path / "elsewhere")
    project = work / "proj"
    (run,) = (project / "runs").iterdir()
    return project, run


def test_run_files_store_paths_relative_to_themselves(project_run):
    (run,) = (project_run / "proj" / "runs").iterdir()
    config = json.loads((run / files.CONFIG).read_text())
    assert config["data"]["sources"] == ["../../../data"]
    split = json.loads((run / files.SPLIT).read_text())
    assert all(name.startswith("../../../data/") for name in split["files"]["val"])
    with sqlite3.connect(project_run / "proj" / DB_FILE) as db:
        (stored, artifacts) = db.execute("SELECT run_dir, artifacts FROM runs").fetchone()
    db.close()
    assert stored == f"runs/{run.name}"
    assert json.loads(artifacts)[files.BEST] == f"runs/{run.name}/{files.BEST}"


def test_a_moved_project_evaluates_from_another_directory(
    project_run, tmp_path, monkeypatch, capsys
):
    project, run = moved(project_run, tmp_path)
    monkeypatch.chdir(tmp_path)  # neither the old place nor the project
    capsys.readouterr()
    assert main(["evaluate", str(run.relative_to(tmp_path)), "--device", "cpu"]) == 0
    assert main(["runs", str(project), "--json"]) == 0
    out = capsys.readouterr().out
    (record,) = json.loads(out[out.index("[") :])
    assert record["run_dir"] == str(run)
    assert record["config"]["data"]["sources"] == [str(project.parent / "data")]


def _interrupt(project: Path, run: Path, epochs: int) -> None:
    """As if the run had been killed after epoch 1 of ``epochs``."""
    config = json.loads((run / files.CONFIG).read_text())
    config["train"]["epochs"] = epochs
    (run / files.CONFIG).write_text(json.dumps(config))
    with sqlite3.connect(project / DB_FILE) as db:
        db.execute("UPDATE runs SET status='interrupted', pid=999999999")
    db.close()


@pytest.mark.parametrize("with_project", [True, False])
def test_a_cli_resume_updates_the_projects_history(project_run, tmp_path, with_project):
    project, run = moved(project_run, tmp_path)
    _interrupt(project, run, epochs=2)
    args = ["train", *([str(project)] if with_project else []), "--resume", str(run), "--quiet"]
    assert main(args) == 0
    with RunStore(project) as store:
        (record,) = store.runs()
        assert record.status == "finished" and record.best_epoch in (1, 2)
        assert [e["epoch"] for e in store.epochs(record.id)] == [1, 2]  # history kept
    assert len(list((project / "runs").iterdir())) == 1  # resumed, not started over
