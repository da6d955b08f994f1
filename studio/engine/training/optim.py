"""Optimizers and learning-rate schedules, picked by name from the config (registries)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from studio.config import TrainConfig

OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "adamw": lambda groups, lr, wd: torch.optim.AdamW(groups, lr=lr, weight_decay=wd),
    "adam": lambda groups, lr, wd: torch.optim.Adam(groups, lr=lr, weight_decay=wd),
    "sgd": lambda groups, lr, wd: torch.optim.SGD(
        groups, lr=lr, momentum=0.9, nesterov=True, weight_decay=wd
    ),
}


def build_optimizer(cfg: TrainConfig, groups: list[dict]) -> torch.optim.Optimizer:
    return OPTIMIZERS[cfg.optimizer](groups, cfg.learning_rate, cfg.weight_decay)


class Schedule:
    """Wraps a torch scheduler and knows when it steps: after each batch, or each epoch."""

    def __init__(self, cfg: TrainConfig, optimizer: torch.optim.Optimizer, steps: int) -> None:
        self.kind = cfg.schedule
        total = max(1, cfg.epochs * steps)
        self.per_batch = self.kind in {"cosine", "onecycle"}
        self.scheduler: Any = None
        if self.kind == "cosine":
            warm = min(total - 1, int(cfg.warmup_epochs * steps))
            self.scheduler = torch.optim.lr_scheduler.LambdaLR(
                optimizer, _warmup_cosine(warm, total)
            )
        elif self.kind == "onecycle":
            peaks = [group["lr"] for group in optimizer.param_groups]
            self.scheduler = torch.optim.lr_scheduler.OneCycleLR(
                optimizer, max_lr=peaks, total_steps=total
            )
        elif self.kind == "step":
            self.scheduler = torch.optim.lr_scheduler.StepLR(
                optimizer, step_size=cfg.step_every, gamma=0.1
            )
        elif self.kind == "plateau":
            self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer, mode="min", factor=0.3, patience=2
            )

    def after_batch(self) -> None:
        if self.per_batch:
            self.scheduler.step()

    def after_epoch(self, val_loss: float) -> None:
        if self.kind == "plateau":
            self.scheduler.step(val_loss)
        elif self.kind == "step":
            self.scheduler.step()

    def state_dict(self) -> dict:
        return self.scheduler.state_dict() if self.scheduler is not None else {}

    def load_state_dict(self, state: dict) -> None:
        if self.scheduler is not None and state:
            self.scheduler.load_state_dict(state)


def _warmup_cosine(warm: int, total: int) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / (warm + 1)
        progress = (step - warm) / max(1, total - warm)
        return 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))

    return factor
