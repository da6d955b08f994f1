"""Typed events streamed by long work: small, frozen and JSON-serialisable.

The GUI receives them through a Qt signal; the CLI writes them to ``events.jsonl``.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from typing import Any, ClassVar


class RunStatus(enum.StrEnum):
    """Where a run stands; serialised as its plain string (``"stopped"``)."""

    RUNNING = "running"
    FINISHED = "finished"  # every epoch ran, or early stopping ended it
    STOPPED = "stopped"  # the user (Stop, closing the window, Ctrl-C) ended it
    FAILED = "failed"  # an error ended it; the message says which
    INTERRUPTED = "interrupted"  # the process died while it was running (found later)


@dataclasses.dataclass(frozen=True, slots=True)
class Event:
    """Base of every event; ``name`` is the ``"event"`` key of its JSON form."""

    name: ClassVar[str] = "event"

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.name, **dataclasses.asdict(self)}


@dataclasses.dataclass(frozen=True, slots=True)
class RunStarted(Event):
    name: ClassVar[str] = "run_started"
    model: str
    device: str
    classes: list[str]
    train_images: int
    val_images: int
    epochs: int
    batches_per_epoch: int
    skipped_images: int = 0
    trainable_params: int = 0
    total_params: int = 0
    start_epoch: int = 1  # > 1 when resuming a run
    test_images: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class BatchEnded(Event):
    name: ClassVar[str] = "batch_ended"
    epoch: int
    batch: int
    batches: int
    loss: float
    acc: float


@dataclasses.dataclass(frozen=True, slots=True)
class EpochEnded(Event):
    name: ClassVar[str] = "epoch_ended"
    epoch: int
    epochs: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    lr: float
    seconds: float
    images_per_second: float
    best_epoch: int


@dataclasses.dataclass(frozen=True, slots=True)
class CoachSaid(Event):
    """What the overfitting coach found; ``began`` is the epoch where the trouble started."""

    epoch: int
    signal: str
    detail: str
    began: int


@dataclasses.dataclass(frozen=True, slots=True)
class OverfittingDetected(CoachSaid):
    """The training and validation curves diverge (``val_loss_rising``, ``accuracy_gap``,
    ``val_plateau``)."""

    name: ClassVar[str] = "overfitting_detected"


@dataclasses.dataclass(frozen=True, slots=True)
class TrainingWarning(CoachSaid):
    """Another problem: ``underfitting`` or ``lr_too_high``."""

    name: ClassVar[str] = "training_warning"


@dataclasses.dataclass(frozen=True, slots=True)
class OverfittingCleared(Event):
    """Later epochs contradicted an earlier alarm (validation reached a new best): the
    signal is withdrawn."""

    name: ClassVar[str] = "overfitting_cleared"
    epoch: int
    signal: str
    detail: str


@dataclasses.dataclass(frozen=True, slots=True)
class CoachVerdict(Event):
    """The coach's last word on a run, sent just before ``run_finished``: what went wrong,
    which epoch was kept and what to try next; ``signals`` were active at the end."""

    name: ClassVar[str] = "coach_verdict"
    text: str
    signals: list[str]
    stopped_early: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class Notice(Event):
    """Something the user should know that did not stop the run (e.g. a halved batch)."""

    name: ClassVar[str] = "notice"
    message: str


@dataclasses.dataclass(frozen=True, slots=True)
class RunFinished(Event):
    """Always the last event. ``status`` is finished, stopped or failed."""

    name: ClassVar[str] = "run_finished"
    status: RunStatus
    best_epoch: int | None
    best_val_acc: float | None
    seconds: float
    message: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", RunStatus(self.status))  # also from JSON's string


@dataclasses.dataclass(frozen=True, slots=True)
class CheckProgress(Event):
    """Progress of the data health check: ``done`` of ``total`` files read and hashed."""

    name: ClassVar[str] = "check_progress"
    done: int
    total: int


@dataclasses.dataclass(frozen=True, slots=True)
class Progress(Event):
    """Progress of other long work (label issues, learning curves): ``done`` of ``total``
    steps of ``stage``, a short phrase such as ``"fold 2 of 5"``."""

    name: ClassVar[str] = "progress"
    stage: str
    done: int
    total: int


@dataclasses.dataclass(frozen=True, slots=True)
class PreflightStep(Event):
    """The pre-flight check: check ``done`` of ``total`` finished (``check`` names it,
    ``passed`` says how it went; ``passed`` is ``None`` while it starts)."""

    name: ClassVar[str] = "preflight_step"
    check: str
    done: int
    total: int
    passed: bool | None = None
    detail: str = ""


EVENT_TYPES: dict[str, type[Event]] = {
    cls.name: cls
    for cls in (
        RunStarted,
        BatchEnded,
        EpochEnded,
        OverfittingDetected,
        TrainingWarning,
        OverfittingCleared,
        CoachVerdict,
        Notice,
        RunFinished,
        CheckProgress,
        Progress,
        PreflightStep,
    )
}

EventSink = Callable[[Event], None]


def from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from its JSON form."""
    fields = dict(data)
    cls = EVENT_TYPES[fields.pop("event")]
    return cls(**fields)
