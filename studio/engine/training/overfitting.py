"""The overfitting coach: pure functions over the per-epoch metric history.

Each rule smooths the curves (an exponential moving average) and asks for a change to last
``patience`` epochs, so a single noisy epoch never raises an alarm. Verdicts name the epoch
where the trouble began, for the plot to shade, and explain it in plain words.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence

OVERFITTING = frozenset({"val_loss_rising", "accuracy_gap", "val_plateau"})


@dataclasses.dataclass(frozen=True)
class CoachSettings:
    """Thresholds of the rules (mirrors ``studio.config.CoachConfig``)."""

    patience: int = 3
    gap_threshold: float = 0.15
    min_delta: float = 0.05
    smoothing: float = 0.3


@dataclasses.dataclass(frozen=True)
class Diagnosis:
    """``signal`` names the rule; ``began`` is the 1-based epoch where the trouble started."""

    epoch: int
    signal: str
    began: int
    detail: str

    @property
    def is_overfitting(self) -> bool:
        return self.signal in OVERFITTING


@dataclasses.dataclass(frozen=True)
class History:
    train_loss: Sequence[float]
    val_loss: Sequence[float]
    train_acc: Sequence[float]
    val_acc: Sequence[float]

    def __len__(self) -> int:
        return len(self.val_loss)


def smooth(values: Sequence[float], weight: float) -> list[float]:
    """Exponential moving average; ``weight`` is how much of the past each point keeps."""
    out: list[float] = []
    for value in values:
        out.append(value if not out else weight * out[-1] + (1 - weight) * value)
    return out


def diagnose(
    history: History, settings: CoachSettings = CoachSettings(), classes: int = 2
) -> list[Diagnosis]:
    """Every rule that fires on ``history`` now (usually none)."""
    rules = (lr_too_high, val_loss_rising, accuracy_gap, val_plateau, underfitting)
    found = [rule(history, settings, classes) for rule in rules]
    return [d for d in found if d is not None]


def val_loss_rising(h: History, s: CoachSettings, classes: int = 2) -> Diagnosis | None:
    """Validation loss rose for ``patience`` epochs while training loss kept falling."""
    p = s.patience
    if len(h) <= p:
        return None
    val, train = smooth(h.val_loss, s.smoothing), smooth(h.train_loss, s.smoothing)
    rising = all(val[i] > val[i - 1] for i in range(len(val) - p, len(val)))
    best = min(range(len(val)), key=val.__getitem__)
    above_best = val[-1] > val[best] * (1 + s.min_delta) + 0.01  # near zero, ratios are noise
    train_falling = train[-1] < train[-1 - p]
    if not (rising and above_best and train_falling):
        return None
    best_epoch = _best_epoch(h.val_loss) + 1
    return Diagnosis(
        epoch=len(h),
        signal="val_loss_rising",
        began=best_epoch + 1,
        detail=(
            f"Validation loss has risen for {p} epochs while training loss kept falling: "
            f"the model is memorising the training images instead of learning what "
            f"generalises. Validation loss was lowest at epoch {best_epoch}."
        ),
    )


def accuracy_gap(h: History, s: CoachSettings, classes: int = 2) -> Diagnosis | None:
    """Training accuracy is ahead of validation by more than the threshold, and widening."""
    p = s.patience
    if len(h) <= p:
        return None
    gaps = [t - v for t, v in zip(h.train_acc, h.val_acc, strict=True)]
    smoothed = smooth(gaps, s.smoothing)
    if not (gaps[-1] > s.gap_threshold and gaps[-2] > s.gap_threshold):
        return None
    if smoothed[-1] < smoothed[-1 - p] + s.min_delta / 2:
        return None  # large but steady: not getting worse
    began = len(gaps)
    while began > 1 and gaps[began - 2] > s.gap_threshold:
        began -= 1
    return Diagnosis(
        epoch=len(h),
        signal="accuracy_gap",
        began=began,
        detail=(
            f"Training accuracy is {h.train_acc[-1]:.0%} but validation accuracy only "
            f"{h.val_acc[-1]:.0%}, and the gap keeps widening: the model is memorising "
            f"the training images."
        ),
    )


def val_plateau(h: History, s: CoachSettings, classes: int = 2) -> Diagnosis | None:
    """Validation accuracy stopped improving while training accuracy keeps climbing."""
    p = s.patience
    if len(h) <= p + 1:
        return None
    best_before = max(h.val_acc[:-p])
    stalled = max(h.val_acc[-p:]) <= best_before + 0.005
    climbing = h.train_acc[-1] - h.train_acc[-1 - p] > 0.03
    ahead = h.train_acc[-1] > h.val_acc[-1] + 0.05
    if not (stalled and climbing and ahead):
        return None
    began = max(range(len(h) - p), key=h.val_acc.__getitem__) + 1
    return Diagnosis(
        epoch=len(h),
        signal="val_plateau",
        began=began,
        detail=(
            f"Validation accuracy has not improved for {p} epochs (best "
            f"{best_before:.0%} at epoch {began}) while training accuracy keeps climbing: "
            f"further epochs only memorise the training images."
        ),
    )


def underfitting(h: History, s: CoachSettings, classes: int = 2) -> Diagnosis | None:
    """Both accuracies low and flat: the model is not learning enough."""
    p = s.patience
    if len(h) <= p:
        return None
    chance = 1 / max(classes, 2)
    low = max(h.train_acc[-1], h.val_acc[-1]) < chance + 0.4 * (1 - chance)
    flat = h.train_acc[-1] - h.train_acc[-1 - p] < 0.02
    recent = h.train_loss[-1 - p :]
    steady = max(abs(b - a) for a, b in itertools.pairwise(recent)) < 0.1 * max(
        sum(recent) / len(recent), 1e-9
    )  # wild swings are a learning-rate problem, not underfitting
    if not (low and flat and steady):
        return None
    return Diagnosis(
        epoch=len(h),
        signal="underfitting",
        began=len(h) - p,
        detail=(
            f"Training accuracy is stuck at {h.train_acc[-1]:.0%} (chance is "
            f"{chance:.0%}): the model is underfitting. Train longer, use a pre-trained or "
            f"bigger model, unfreeze more layers, or check the labels."
        ),
    )


def lr_too_high(h: History, s: CoachSettings, classes: int = 2) -> Diagnosis | None:
    """The training loss exploded (or became NaN) or swings up and down from epoch to epoch."""
    losses = list(h.train_loss)
    if not losses:
        return None
    if not all(math.isfinite(x) for x in losses):
        began = next(i for i, x in enumerate(losses) if not math.isfinite(x)) + 1
        return _lr_diagnosis(len(h), began, "became NaN or infinite")
    if len(losses) >= 2 and losses[-1] > 2 * min(losses) and losses[-1] > losses[0]:
        return _lr_diagnosis(len(h), len(h), "exploded above where it started")
    if len(losses) >= 5:
        steps = [b - a for a, b in zip(losses[-5:-1], losses[-4:], strict=True)]
        alternating = all(x * y < 0 for x, y in itertools.pairwise(steps))
        mean = sum(losses[-5:]) / 5
        big = mean > 0.1 and min(abs(x) for x in steps) > 0.15 * mean
        if alternating and big:
            return _lr_diagnosis(len(h), len(h) - 4, "swings up and down from epoch to epoch")
    return None


def _lr_diagnosis(epoch: int, began: int, what: str) -> Diagnosis:
    return Diagnosis(
        epoch=epoch,
        signal="lr_too_high",
        began=began,
        detail=(
            f"The training loss {what}: the learning rate is probably too high. Try a "
            f"learning rate 3 to 10 times lower."
        ),
    )


def _best_epoch(values: Sequence[float]) -> int:
    return min(range(len(values)), key=values.__getitem__)


class Coach:
    """Follows a run epoch by epoch and reports each signal the first time it fires."""

    def __init__(self, settings: CoachSettings = CoachSettings(), classes: int = 2) -> None:
        self.settings = settings
        self.classes = classes
        self.fired: set[str] = set()

    def update(self, history: History) -> list[Diagnosis]:
        new = [
            d for d in diagnose(history, self.settings, self.classes) if d.signal not in self.fired
        ]
        self.fired.update(d.signal for d in new)
        return new
