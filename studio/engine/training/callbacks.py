"""Extensions of the training loop: each reacts to epochs and may ask the loop to stop.

The loop calls ``on_epoch_saved`` before an epoch's ``epoch_ended`` event is sent (so what is
announced is already on disk) and ``on_epoch_end`` after it; a callback that wants the run to
end sets ``run.stop_message``. Callbacks receive plain floats (the
event), never tensors, except through ``run`` for the ones that save weights.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio.engine.events import (
    CoachVerdict,
    EpochEnded,
    OverfittingCleared,
    OverfittingDetected,
    TrainingWarning,
)
from studio.engine.runs import checkpoints
from studio.engine.training.overfitting import Coach, CoachSettings, History, small_validation

if TYPE_CHECKING:
    from studio.engine.training.run import Run


class Callback:
    """Override what you need; every hook is optional."""

    def on_run_start(self, run: Run) -> None: ...

    def on_epoch_saved(self, run: Run, ended: EpochEnded) -> None: ...

    def on_epoch_end(self, run: Run, ended: EpochEnded) -> None: ...

    def on_run_end(self, run: Run, status: str) -> None: ...


class LastCheckpoint(Callback):
    """Writes ``last`` every epoch: weights, optimizer, schedule, scaler, RNG and history."""

    def on_epoch_saved(self, run: Run, ended: EpochEnded) -> None:
        if run.run_dir is not None:
            checkpoints.save_last(
                run.run_dir, ended.epoch, run.model.state_dict(), run.training_state(ended.epoch)
            )


class CoachCallback(Callback):
    """Runs the overfitting coach and streams what it finds, what it withdraws and, at the
    end, its verdict."""

    def __init__(self, settings: CoachSettings, classes: int) -> None:
        self.coach = Coach(settings, classes)

    def on_run_start(self, run: Run) -> None:
        if run.history:  # a resumed run: do not repeat what was already said
            for n in range(1, len(run.history) + 1):
                self.coach.update(_history(run.history[:n]))

    def on_epoch_end(self, run: Run, ended: EpochEnded) -> None:
        if ended.epoch == 1 and (small := small_validation(len(run.val_ds))):
            run.sink(TrainingWarning(epoch=1, signal=small.signal, detail=small.detail, began=1))
        new, cleared = self.coach.update(_history(run.history))
        for d in cleared:
            run.sink(
                OverfittingCleared(
                    epoch=ended.epoch,
                    signal=d.signal,
                    detail=f"Validation accuracy reached a new best after epoch {d.epoch}: "
                    f"the earlier warning no longer holds.",
                )
            )
        for d in new:
            kind = OverfittingDetected if d.is_overfitting else TrainingWarning
            run.sink(kind(epoch=d.epoch, signal=d.signal, detail=d.detail, began=d.began))

    def on_run_end(self, run: Run, status: str) -> None:
        history = _history(run.history)
        text = self.coach.verdict(history, stopped_early=run.stopped_early)
        run.sink(
            CoachVerdict(
                text=text, signals=sorted(self.coach.active), stopped_early=run.stopped_early
            )
        )


class EarlyStopping(Callback):
    """Stops when the best epoch is ``patience`` epochs old."""

    def __init__(self, patience: int, metric: str) -> None:
        self.patience = patience
        self.metric = "validation accuracy" if metric == "val_acc" else "validation loss"

    def on_epoch_end(self, run: Run, ended: EpochEnded) -> None:
        if ended.epoch - ended.best_epoch >= self.patience:
            run.stopped_early = True
            run.stop_message = (
                f"Stopped early: {self.metric} has not improved for "
                f"{self.patience} epochs; the best epoch ({ended.best_epoch}) "
                f"is kept."
            )


def _history(epochs: list[EpochEnded]) -> History:
    return History(
        train_loss=[e.train_loss for e in epochs],
        val_loss=[e.val_loss for e in epochs],
        train_acc=[e.train_acc for e in epochs],
        val_acc=[e.val_acc for e in epochs],
    )
