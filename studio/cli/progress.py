"""Readable progress of a training run on stdout: one line per epoch."""

from __future__ import annotations

from studio.engine.events import (
    CoachVerdict,
    EpochEnded,
    Event,
    Notice,
    OverfittingCleared,
    OverfittingDetected,
    RunFinished,
    RunStarted,
    TrainingWarning,
)


class Printer:
    """Readable progress on stdout: one line per epoch."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted) and not self.quiet:
            skipped = f", {event.skipped_images} unreadable skipped" if event.skipped_images else ""
            if event.test_images:
                skipped += f", {event.test_images} test images held out"
            print(
                f"Training {event.model} on {event.device}: {len(event.classes)} classes, "
                f"{event.train_images} train / {event.val_images} validation images{skipped}"
            )
        elif isinstance(event, EpochEnded) and not self.quiet:
            print(
                f"epoch {event.epoch:>3}/{event.epochs}  "
                f"train loss {event.train_loss:.4f} acc {event.train_acc:6.1%}  "
                f"val loss {event.val_loss:.4f} acc {event.val_acc:6.1%}  "
                f"{event.images_per_second:7.1f} img/s  {event.seconds:5.1f}s",
                flush=True,
            )
        elif isinstance(event, OverfittingDetected | TrainingWarning | Notice) and not self.quiet:
            text = event.message if isinstance(event, Notice) else event.detail
            print(f"  ! {text}", flush=True)
        elif isinstance(event, OverfittingCleared) and not self.quiet:
            print(f"  ✓ {event.detail}", flush=True)
        elif isinstance(event, CoachVerdict) and not self.quiet:
            print(f"Coach: {event.text}", flush=True)
        elif isinstance(event, RunFinished):
            best = (
                f"best val acc {event.best_val_acc:.1%} at epoch {event.best_epoch}"
                if event.best_epoch
                else "no epoch completed"
            )
            extra = f" ({event.message})" if event.message else ""
            print(f"Run {event.status}{extra}: {best}, {event.seconds:.1f}s", flush=True)
