"""The sealed test split: looks counted and dated per project, changes after a peek named."""

from __future__ import annotations

from pathlib import Path

from studio.config import ProjectConfig
from studio.config.io import save_project
from studio.engine.results import test_seal


def test_looks_are_counted_per_project_and_changes_after_a_peek_are_named(tmp_path: Path):
    project = tmp_path / "project"
    config = ProjectConfig()
    save_project(project, config)
    run = project / "runs" / "20261201-101010"
    run.mkdir(parents=True)
    assert test_seal.project_of(run) == project.resolve()
    assert test_seal.describe(project).startswith("Test set sealed")
    assert test_seal.changed_since_look(test_seal.looks(project), config) == []

    test_seal.record_look(run, config)
    seen = test_seal.record_look(run, config)
    assert len(seen) == 2 and seen[-1].run == run.name
    assert len(test_seal.looks(project)) == 2  # read back from test-seal.json
    assert "unsealed 2 times" in test_seal.describe(project)

    changed = config.model_copy(deep=True)
    changed.train.learning_rate = 0.01
    changed.train.device = "cpu"  # where it runs is not a change of what it learns
    seen = test_seal.looks(project)
    assert test_seal.changed_since_look(seen, changed) == ["train.learning_rate"]


def test_a_run_outside_a_project_keeps_no_project_record(tmp_path: Path):
    run = tmp_path / "runs" / "alone"
    run.mkdir(parents=True)
    assert test_seal.project_of(run) is None
    assert test_seal.record_look(run, ProjectConfig()) == []
    assert test_seal.describe(None, per_run=3) == "Test set looked at 3 time(s) for this run."
