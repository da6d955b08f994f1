"""Logging runs to the tracking tools people already use: TensorBoard and MLflow.

Both are optional (``pip install 'studio[tracking]'``) and off by default; the settings
``train.log_tensorboard`` and ``train.log_mlflow`` (``studio train --log …``, the Advanced
settings) turn them on. Each logs the epochs' metrics, the run's settings and its best model:

- TensorBoard: event files in the run folder's ``tensorboard/`` (``tensorboard --logdir`` on
  the runs folder shows every run), the settings and best results in its HParams tab.
- MLflow: a SQLite store beside the run folders (``mlflow.db``; ``MLFLOW_TRACKING_URI``
  chooses another store), experiment "Studio", one MLflow run per Studio run, with the best
  model's files as artifacts. No server is needed: ``mlflow ui --backend-store-uri
  sqlite:///…/mlflow.db`` shows them.

A tracking tool that fails during a run (a full disk, a locked store) is switched off with a
notice; the run goes on.
"""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.config import ProjectConfig
from studio.engine.events import EpochEnded, Notice
from studio.engine.runs import files
from studio.engine.training.callbacks import Callback
from studio.errors import StudioError

if TYPE_CHECKING:
    from studio.engine.training.run import Run

EXPERIMENT = "Studio"
INSTALL = "pip install 'studio[tracking]'"
# what each tool needs imported, and the name users know it by
_NEEDS = {"tensorboard": ("tensorboard",), "mlflow": ("mlflow", "sqlalchemy", "alembic")}
TOOLS = tuple(_NEEDS)


def chosen(config: ProjectConfig) -> list[str]:
    """The tracking tools ``config`` logs to."""
    train = config.train
    return [
        t for t, on in (("tensorboard", train.log_tensorboard), ("mlflow", train.log_mlflow)) if on
    ]


def check(config: ProjectConfig) -> None:
    """:class:`StudioError` naming the extra to install when a chosen tool is missing."""
    for tool in chosen(config):
        if any(importlib.util.find_spec(module) is None for module in _NEEDS[tool]):
            raise StudioError(f"Logging to {_TITLES[tool]} needs the tracking extra: {INSTALL}")


def callbacks(config: ProjectConfig, run_dir: Path) -> list[Callback]:
    """One callback per chosen tool (none when none is chosen; nothing imported then)."""
    check(config)
    return [_MAKERS[tool](Path(run_dir)) for tool in chosen(config)]


class _Tracker(Callback):
    """Calls the tool, and on its first error says so and stays quiet for the rest of the
    run: tracking never breaks training."""

    title = ""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.broken = False

    def on_run_start(self, run: Run) -> None:
        self._safely(run, self.start, run)

    def on_epoch_end(self, run: Run, ended: EpochEnded) -> None:
        self._safely(run, self.epoch, ended)

    def on_run_end(self, run: Run, status: str) -> None:
        self._safely(run, self.end, run, str(status))

    def _safely(self, run: Run, step, *args: Any) -> None:
        if self.broken:
            return
        try:
            step(*args)
        except Exception as exc:
            self.broken = True
            run.sink(Notice(message=f"{self.title} logging stopped: {exc}"))

    def start(self, run: Run) -> None: ...

    def epoch(self, ended: EpochEnded) -> None: ...

    def end(self, run: Run, status: str) -> None: ...


class TensorBoardLog(_Tracker):
    """Scalars per epoch (``loss/train``, ``accuracy/val``, ``lr``…), the settings and best
    results as HParams, and where the best model is, in ``RUN_DIR/tensorboard``."""

    title = "TensorBoard"

    def start(self, run: Run) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(self.run_dir / files.TENSORBOARD))

    def epoch(self, ended: EpochEnded) -> None:
        for name, value in _metrics(ended).items():
            self.writer.add_scalar(name, value, ended.epoch)
        self.writer.flush()

    def end(self, run: Run, status: str) -> None:
        best = run.best
        results = {"best/val_acc": best.val_acc, "best/val_loss": best.val_loss} if best else {}
        from torch.utils.tensorboard.summary import hparams

        results = results or {"best/val_acc": 0.0}
        for summary in hparams(settings(run.config), results):  # into this run's own file
            self.writer.file_writer.add_summary(summary)
        for name, value in results.items():
            self.writer.add_scalar(name, value)
        if best is not None:
            self.writer.add_text(
                "best_model", f"Epoch {best.epoch} ({status}): {self.run_dir / files.BEST}"
            )
        self.writer.close()


class MlflowLog(_Tracker):
    """One MLflow run per Studio run: the settings as parameters, the metrics per epoch, the
    best model's files as artifacts and the end status."""

    title = "MLflow"

    def start(self, run: Run) -> None:
        from mlflow.tracking import MlflowClient

        root = self.run_dir.parent
        uri = os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{root / files.MLFLOW_STORE}"
        self.client = MlflowClient(tracking_uri=uri)
        found = self.client.get_experiment_by_name(EXPERIMENT)
        experiment = (
            found.experiment_id
            if found
            else self.client.create_experiment(
                EXPERIMENT, artifact_location=(root / files.MLFLOW_ARTIFACTS).as_uri()
            )
        )
        self.run_id = self.client.create_run(
            experiment,
            run_name=self.run_dir.name,
            tags={"studio.run_dir": str(self.run_dir), "studio.model": run.config.model.name},
        ).info.run_id
        from mlflow.entities import Param

        params = [Param(k, str(v)) for k, v in settings(run.config).items()]
        for i in range(0, len(params), 100):  # MLflow takes at most 100 a call
            self.client.log_batch(self.run_id, params=params[i : i + 100])

    def epoch(self, ended: EpochEnded) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self.client.log_batch(
            self.run_id,
            metrics=[Metric(k, v, now, ended.epoch) for k, v in _metrics(ended).items()],
        )

    def end(self, run: Run, status: str) -> None:
        if run.best is not None:
            self.client.log_metric(self.run_id, "best_val_acc", run.best.val_acc)
            self.client.log_metric(self.run_id, "best_epoch", run.best.epoch)
            for name in (files.BEST, files.MODEL):
                if (self.run_dir / name).is_file():
                    self.client.log_artifact(self.run_id, str(self.run_dir / name), "model")
        ended = {"finished": "FINISHED", "stopped": "KILLED"}.get(status, "FAILED")
        self.client.set_terminated(self.run_id, status=ended)


def settings(config: ProjectConfig) -> dict[str, str | int | float | bool]:
    """The run's settings as flat ``section.field`` values (what both tools record)."""
    flat: dict[str, str | int | float | bool] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else key, inner)
        elif isinstance(value, bool | int | float | str):
            flat[prefix] = value
        else:
            flat[prefix] = "none" if value is None else str(value)

    walk("", config.model_dump(mode="json", exclude={"user_set"}))
    return flat


def _metrics(ended: EpochEnded) -> dict[str, float]:
    return {
        "loss/train": ended.train_loss,
        "loss/val": ended.val_loss,
        "accuracy/train": ended.train_acc,
        "accuracy/val": ended.val_acc,
        "lr": ended.lr,
        "images_per_second": ended.images_per_second,
    }


_TITLES = {"tensorboard": "TensorBoard", "mlflow": "MLflow"}
_MAKERS = {"tensorboard": TensorBoardLog, "mlflow": MlflowLog}
