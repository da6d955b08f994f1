"""The state of one training run: model, data, loaders, optimizer and what it has learnt so
far. Callbacks and the inner loops read it; the trainer builds it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import TensorDataset

from studio.config import ProjectConfig
from studio.engine.control import StopToken
from studio.engine.data.loaders import ImageDataset, SeededSampler, ShardedSampler, make_loader
from studio.engine.events import EpochEnded, EventSink, Notice, RunStatus
from studio.engine.models.factory import head_module
from studio.engine.models.state import checked, load_checked
from studio.engine.runs import checkpoints
from studio.engine.training import feature_cache
from studio.engine.training.distributed import World
from studio.engine.training.optim import Schedule, build_optimizer
from studio.engine.training.run_data import train_loader


@dataclasses.dataclass
class RunResult:
    status: RunStatus
    best_epoch: int | None
    best_val_acc: float | None
    history: list[EpochEnded]
    classes: list[str]
    model: nn.Module | None = None  # holds the best epoch's weights


@dataclasses.dataclass
class Run:
    """Everything one run trains with; callbacks read it and may set ``stop_message``."""

    config: ProjectConfig
    run_dir: Path | None
    sink: EventSink
    device: torch.device
    model: nn.Module
    classes: list[str]
    train_ds: ImageDataset
    val_ds: ImageDataset
    groups: list[dict]
    workers: int
    batch_size: int
    amp: tuple[Any, torch.dtype]
    loss_fn: nn.Module
    sampler_weights: list[float] | None = None
    history: list[EpochEnded] = dataclasses.field(default_factory=list)
    best: EpochEnded | None = None
    best_state: dict[str, torch.Tensor] | None = None
    stop_message: str = ""
    stopped_early: bool = False
    start_epoch: int = 1
    skipped: int = 0
    test_images: int = 0
    mean: tuple[float, ...] = (0.485, 0.456, 0.406)
    std: tuple[float, ...] = (0.229, 0.224, 0.225)
    keys: tuple[list[str], list[str]] = ([], [])  # content keys of the train and val files
    forward: nn.Module | None = None  # the head alone when training on cached features
    cached: dict[str, torch.Tensor] | None = None
    # data-parallel runs: this process's place, and the DistributedDataParallel wrapper that
    # training steps go through (``model`` stays the plain module: validation, checkpoints)
    world: World | None = None
    parallel: nn.Module | None = None

    def __post_init__(self) -> None:
        cfg = self.config.train
        self.optimizer = build_optimizer(cfg, self.groups)
        self.scaler = torch.amp.GradScaler(
            "cuda", enabled=self.device.type == "cuda" and self.amp[1] == torch.float16
        )
        self.build_loaders(self.batch_size)

    def build_loaders(self, batch_size: int) -> None:
        """(Re)build the loaders and the schedule for ``batch_size`` (after an OOM too)."""
        cfg = self.config.train
        self.batch_size = batch_size
        train, val, workers = self.train_ds, self.val_ds, self.workers
        if self.cached is not None:
            train = TensorDataset(self.cached["train_x"], self.cached["train_y"])
            val = TensorDataset(self.cached["val_x"], self.cached["val_y"])
            workers = 0  # tensors in memory: nothing to decode
        shard = (self.world.rank, self.world.size) if self.world else None
        self.train_loader = train_loader(
            train, self.sampler_weights, batch_size, workers, self.device, cfg.seed, shard
        )
        self.val_loader = make_loader(
            val, batch_size, False, workers, self.device, cfg.seed, shard=shard
        )
        self.schedule = Schedule(cfg, self.optimizer, len(self.train_loader))

    def use_cached_features(self, token: StopToken) -> None:
        """Linear probe without augmentation: train the head on backbone features computed
        once (or found in the run folder's cache)."""
        key = feature_cache.cache_key(self.config, self.mean, self.std, *self.keys)
        self.sink(
            Notice(
                message="Linear probe without augmentation: computing the backbone's "
                "features once, then training only the head on them."
            )
        )
        self.cached, hit = feature_cache.features(self, token, key)
        if hit:
            self.sink(Notice(message="Backbone features found in the run's cache."))
        self.forward = head_module(self.model)
        self.build_loaders(self.batch_size)

    def is_better(self, val_acc: float, val_loss: float) -> bool:
        if self.best is None:
            return True
        if self.config.train.early_stopping_metric == "val_loss":
            return val_loss < self.best.val_loss
        return (val_acc, -val_loss) > (self.best.val_acc, -self.best.val_loss)

    def training_state(self, epoch: int) -> dict:
        """What resuming needs besides the weights (all weights-only-loadable)."""
        sampler = self._seeded_sampler()
        seeds = sampler.generator.get_state() if sampler is not None else None
        return {
            "epoch": epoch,
            "batch_size": self.batch_size * self.processes,  # the total over all processes
            "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(),
            "scaler": self.scaler.state_dict(),
            "rng": checkpoints.rng_state(),
            "loader": self.train_loader.generator.get_state(),
            "augment": seeds,  # draws each sample's augmentation seed
            "history": [json.dumps(e.to_dict()) for e in self.history],
            "best_epoch": self.best.epoch if self.best else 0,
        }

    def restore(self, weights: dict[str, torch.Tensor], state: dict) -> None:
        """Continue where a saved ``last`` checkpoint left off."""
        from studio.engine.events import from_dict

        load_checked(self.model, weights, f"The last checkpoint of {self.run_dir}")
        batch_size = max(1, state["batch_size"] // self.processes)  # any process count
        if batch_size != self.batch_size:
            self.build_loaders(batch_size)
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        self.scaler.load_state_dict(state["scaler"])
        checkpoints.set_rng_state(state["rng"])
        self.train_loader.generator.set_state(state["loader"])
        sampler, seeds = self._seeded_sampler(), state.get("augment")
        if sampler is not None and isinstance(seeds, torch.Tensor):
            sampler.generator.set_state(seeds)
        self.history = [from_dict(json.loads(e)) for e in state["history"]]
        self.best = next((e for e in self.history if e.epoch == state["best_epoch"]), None)
        if self.best is not None and self.run_dir is not None:
            best = checkpoints.load_weights(self.run_dir, "best")
            self.best_state = checked(self.model.state_dict(), best, f"{self.run_dir}'s best model")
        self.start_epoch = state["epoch"] + 1

    @property
    def processes(self) -> int:
        """How many processes train together (1 but in a data-parallel run)."""
        return self.world.size if self.world else 1

    def _seeded_sampler(self) -> SeededSampler | None:
        sampler = self.train_loader.sampler
        if isinstance(sampler, ShardedSampler):
            sampler = sampler.sampler
        return sampler if isinstance(sampler, SeededSampler) else None
