"""TensorBoard and MLflow logging: what each writes is what its own reader loads."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from studio.config import ProjectConfig
from studio.engine.events import RunStatus
from studio.engine.runs import files
from studio.engine.training import tracking
from studio.engine.training.session import RunSession
from studio.errors import StudioError


def tiny_config(dataset: Path, **logs: bool) -> ProjectConfig:
    config = ProjectConfig()
    config.data.sources = [dataset]
    config.model.name, config.model.weights = "small_cnn", "none"
    config.train.epochs, config.train.image_size, config.train.batch_size = 2, 16, 8
    config.train.device, config.train.num_workers = "cpu", 0
    for name, on in logs.items():
        setattr(config.train, name, on)
    return config


def train(dataset: Path, run: Path, **logs: bool):
    notes: list[str] = []
    final = RunSession(tiny_config(dataset, **logs), run).run(
        lambda e: notes.append(getattr(e, "message", ""))
    )
    assert final.status == RunStatus.FINISHED, final.message
    assert not [n for n in notes if "logging stopped" in n]
    return final


def test_tensorboard_reads_back_the_run(dataset: Path, tmp_path: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.backend.event_processing.plugin_event_accumulator import (
        EventAccumulator as PluginAccumulator,
    )
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

    run = tmp_path / "runs" / "first"
    train(dataset, run, log_tensorboard=True)
    board = EventAccumulator(str(run / files.TENSORBOARD))
    board.Reload()
    assert [s.step for s in board.Scalars("accuracy/val")] == [1, 2]
    assert {"loss/train", "loss/val", "accuracy/train", "lr"} <= set(board.Tags()["scalars"])
    assert "best_model/text_summary" in board.Tags()["tensors"]
    plugins = PluginAccumulator(str(run / files.TENSORBOARD))  # what the HParams tab reads
    plugins.Reload()
    start = plugins.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    logged = HParamsPluginData.FromString(start).session_start_info.hparams
    assert logged["train.epochs"].number_value == 2
    assert logged["model.name"].string_value == "small_cnn"


def test_mlflow_reads_back_the_run(dataset: Path, tmp_path: Path, monkeypatch):
    from mlflow.tracking import MlflowClient

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    run = tmp_path / "runs" / "first"
    final = train(dataset, run, log_mlflow=True)
    client = MlflowClient(tracking_uri=f"sqlite:///{run.parent / files.MLFLOW_STORE}")
    (logged,) = client.search_runs([client.get_experiment_by_name("Studio").experiment_id])
    assert logged.info.run_name == "first" and logged.info.status == "FINISHED"
    assert logged.data.params["train.epochs"] == "2"
    assert logged.data.params["model.name"] == "small_cnn"
    history = client.get_metric_history(logged.info.run_id, "accuracy/val")
    assert [m.step for m in history] == [1, 2]
    assert logged.data.metrics["best_val_acc"] == pytest.approx(final.best_val_acc)
    artifacts = {a.path for a in client.list_artifacts(logged.info.run_id, "model")}
    assert artifacts == {f"model/{files.BEST}", f"model/{files.MODEL}"}


def test_a_missing_tracking_package_is_one_line_naming_the_extra(dataset: Path, monkeypatch):
    from studio.cli.main import main

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else real(name, *a)
    )
    with pytest.raises(StudioError, match=r"MLflow needs the tracking extra: .*studio\[tracking\]"):
        tracking.check(tiny_config(dataset, log_mlflow=True))
    tracking.check(tiny_config(dataset, log_tensorboard=True))  # that one is installed
    assert tracking.callbacks(tiny_config(dataset), Path("unused")) == []  # off by default
    assert main(["train", "--data", str(dataset), "--log", "mlflow", "--dry-run"]) == 2
