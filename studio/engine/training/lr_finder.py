"""Learning-rate range test: sweep the learning rate up exponentially over a few hundred
steps and watch the loss. The suggestion is where the smoothed loss falls fastest."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from typing import Any

from studio.config import ProjectConfig
from studio.engine.control import StopToken
from studio.engine.events import EventSink, Progress
from studio.engine.training.steps import Stopped, train_step


@dataclasses.dataclass(frozen=True)
class LrFinding:
    lrs: list[float]
    losses: list[float]  # smoothed
    suggestion: float


def find_lr(
    config: ProjectConfig,
    token: StopToken | None = None,
    progress: EventSink | None = None,  # set-up events, then a Progress per step
    start: float = 1e-6,
    end: float = 1.0,
    steps: int = 100,
) -> LrFinding:
    """Train a throw-away copy of the model with a rising learning rate (never saved), with
    the very training step a run takes (autocast, grad scaler)."""
    from studio.engine.training.trainer import _prepare

    token = token or StopToken()
    trial = config.model_copy(deep=True)
    trial.train.schedule = "constant"
    trial.train.learning_rate = start
    run = _prepare(trial, progress or (lambda e: None), None, token)

    def batches() -> Iterator[tuple[Any, Any]]:
        while True:
            yield from run.train_loader

    return sweep(run, batches(), token, start, end, steps, progress)


def sweep(
    run: Any,
    batches: Iterator[tuple[Any, Any]],
    token: StopToken,
    start: float = 1e-6,
    end: float = 1.0,
    steps: int = 100,
    progress: EventSink | None = None,
) -> LrFinding:
    """The sweep itself on a prepared ``run`` (its weights change), one batch of
    ``batches`` a step, the rate rising from ``start`` to ``end``; each parameter group
    keeps its ratio to the run's learning rate (a backbone's lower rate)."""
    from studio.engine.models.finetune import set_train_mode

    factors = [g["lr"] / run.config.train.learning_rate for g in run.optimizer.param_groups]
    gamma = (end / start) ** (1 / max(steps - 1, 1))
    lrs: list[float] = []
    smoothed: list[float] = []
    average, best = 0.0, math.inf
    set_train_mode(run.model)
    for step, (images, targets) in zip(range(steps), batches, strict=False):
        if token.should_stop():
            raise Stopped
        if progress is not None:
            progress(Progress(stage="", done=step, total=steps))
        lr = start * gamma**step
        for group, factor in zip(run.optimizer.param_groups, factors, strict=True):
            group["lr"] = lr * factor
        loss, _, _ = train_step(run, images, targets)
        value = float(loss.detach())
        if not math.isfinite(value):
            break
        average = 0.9 * average + 0.1 * value
        debiased = average / (1 - 0.9 ** (step + 1))
        lrs.append(lr)
        smoothed.append(debiased)
        best = min(best, debiased)
        if step > 10 and debiased > 4 * best:
            break  # the loss has exploded: higher rates tell nothing more
    return LrFinding(lrs=lrs, losses=smoothed, suggestion=suggest(lrs, smoothed))


def suggest(lrs: list[float], losses: list[float]) -> float:
    """The rate where the smoothed loss falls fastest (per log-rate), before its minimum."""
    if len(lrs) < 5:
        return lrs[0] if lrs else 1e-3
    lowest = min(range(len(losses)), key=losses.__getitem__)
    span = range(1, max(lowest, 2))
    slopes = {
        i: (losses[i + 1] - losses[i - 1]) / (math.log(lrs[i + 1]) - math.log(lrs[i - 1]))
        for i in span
        if i + 1 < len(lrs)
    }
    if not slopes:
        return lrs[lowest] / 10
    steepest = min(slopes, key=slopes.__getitem__)
    return lrs[steepest]
