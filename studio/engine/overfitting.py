"""Overfitting diagnosis: pure functions over the per-epoch metric history."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence


@dataclasses.dataclass(frozen=True)
class Diagnosis:
    epoch: int
    signal: str
    detail: str


def diverging_losses(
    train_loss: Sequence[float],
    val_loss: Sequence[float],
    patience: int = 3,
    min_delta: float = 1e-3,
) -> Diagnosis | None:
    """Validation loss rose for ``patience`` epochs in a row while training loss kept falling."""
    if len(val_loss) <= patience or len(train_loss) != len(val_loss):
        return None
    recent = range(len(val_loss) - patience, len(val_loss))
    val_rising = all(val_loss[i] > val_loss[i - 1] + min_delta for i in recent)
    train_falling = all(train_loss[i] < train_loss[i - 1] for i in recent)
    if not (val_rising and train_falling):
        return None
    best = min(range(len(val_loss)), key=val_loss.__getitem__) + 1
    return Diagnosis(
        epoch=len(val_loss),
        signal="val_loss_rising",
        detail=(
            f"Validation loss has risen for {patience} epochs while training loss kept "
            f"falling: the model is memorising the training images instead of learning what "
            f"generalises. Its best epoch was {best}. Try more augmentation, more dropout, "
            f"fewer epochs or early stopping, or more images."
        ),
    )
