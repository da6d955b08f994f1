"""The overfitting coach: pure functions over the per-epoch metric history.

Each rule smooths the curves (an exponential moving average) and asks for a change to last
``patience`` epochs, so a single noisy epoch never raises an alarm. Verdicts name the epoch
where the trouble began, for the plot to shade, and explain it in plain words.

The coach is never wrong on a clean run: no overfitting alarm while BatchNorm statistics and
the learning-rate warm-up settle, nor while validation accuracy is still climbing; an alarm
that later epochs contradict (validation reaches a new best) is withdrawn.
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
    warmup_epochs: float = 0.0  # the schedule's warm-up: no overfitting alarm while it lasts

    @property
    def settle(self) -> int:
        """Epochs of BatchNorm settling and warm-up during which curves are not judged."""
        return max(2, math.ceil(self.warmup_epochs) + 1)


MIN_GAIN = 0.01  # a new best validation accuracy by this much means "still improving"
PERFECT = 0.995  # validation accuracy with nothing left to gain by training longer
SMALL_VALIDATION_POINTS = 3.0  # one validation image worth more points than this is too coarse


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
    """Every rule that fires on ``history`` now (usually none). Overfitting is not judged
    during the settling epochs nor while validation accuracy is still climbing."""
    rules = [lr_too_high, underfitting]
    if len(history) > settings.settle + settings.patience and not still_improving(history):
        rules += [val_loss_rising, accuracy_gap, val_plateau]
    found = [rule(history, settings, classes) for rule in rules]
    return [d for d in found if d is not None]


def still_improving(h: History) -> bool:
    """Validation accuracy just reached a new best by a clear margin."""
    if len(h) < 2:
        return True
    return h.val_acc[-1] >= max(h.val_acc[:-1]) + MIN_GAIN


def contradicted(h: History, alarm: Diagnosis, s: CoachSettings) -> bool:
    """Epochs after ``alarm`` proved it wrong: the gap closed (``accuracy_gap``), validation
    loss came back down to its best (``val_loss_rising``), or validation accuracy beat its
    best up to the alarm by a clear margin (the others)."""
    if len(h) <= alarm.epoch:
        return False
    if alarm.signal == "accuracy_gap":
        return h.train_acc[-1] - h.val_acc[-1] <= s.gap_threshold
    if alarm.signal == "val_loss_rising":
        return h.val_loss[-1] <= min(h.val_loss[: alarm.epoch])
    return max(h.val_acc[alarm.epoch :]) >= max(h.val_acc[: alarm.epoch]) + MIN_GAIN


def small_validation(val_images: int) -> Diagnosis | None:
    """Too few validation images to judge the curves: each is worth many points."""
    if val_images <= 0 or 100 / val_images <= SMALL_VALIDATION_POINTS:
        return None
    points = 100 / val_images
    return Diagnosis(
        epoch=1,
        signal="small_validation",
        began=1,
        detail=(
            f"Only {val_images} validation image{'s' if val_images > 1 else ''}: each one is "
            f"worth {points:.0f} points of accuracy, so the curves are too coarse to judge. "
            f"Hold out a larger validation share or add images."
        ),
    )


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
    """Follows a run epoch by epoch: reports each signal when it starts to fire, withdraws
    an alarm that later epochs contradict, and keeps the list of signals active now."""

    def __init__(self, settings: CoachSettings = CoachSettings(), classes: int = 2) -> None:
        self.settings = settings
        self.classes = classes
        self.active: dict[str, Diagnosis] = {}

    def update(self, history: History) -> tuple[list[Diagnosis], list[Diagnosis]]:
        """``(new, cleared)``: signals firing for the first time (or again after being
        withdrawn), and active ones that this epoch contradicted."""
        firing = {d.signal: d for d in diagnose(history, self.settings, self.classes)}
        cleared = [
            d
            for signal, d in self.active.items()
            if signal not in firing and contradicted(history, d, self.settings)
        ]
        for d in cleared:
            del self.active[d.signal]
        new = [d for signal, d in firing.items() if signal not in self.active]
        self.active.update((d.signal, d) for d in new)
        return new, cleared

    def verdict(self, history: History, stopped_early: bool) -> str:
        """The coach's last word on a run: what went wrong, what was kept, what to try."""
        if not history:
            return "No epoch finished, so there is nothing to judge yet."
        best = max(range(len(history)), key=history.val_acc.__getitem__)
        kept = f"best epoch {best + 1} kept ({history.val_acc[best]:.1%} validation accuracy)"
        overfit = sorted(
            (d for d in self.active.values() if d.is_overfitting), key=lambda d: d.began
        )
        others = [d for d in self.active.values() if not d.is_overfitting]
        parts = []
        if overfit:
            parts.append(f"Overfitting from epoch {overfit[0].began}")
        if stopped_early:
            parts.append("stopped early")
        parts.append(kept)
        text = "; ".join(parts)
        text = text[0].upper() + text[1:] + "."
        if overfit:
            step = "Next: stronger augmentation, more dropout or more images."
        elif any(d.signal == "underfitting" for d in others):
            step = "Next: a pre-trained or bigger model, or more epochs."
        elif any(d.signal == "lr_too_high" for d in others):
            step = "Next: a learning rate 3 to 10 times lower."
        elif history.val_acc[best] >= PERFECT:
            step = (
                "Next: validation has little left to gain; judge the model on the test set "
                "or on new pictures (the Try tab)."
            )
        elif best == len(history) - 1 and not stopped_early:
            step = "Next: validation was still improving: train longer."
        else:
            step = "Next: the run looks healthy; try a bigger model or more data to go further."
        return f"{text} {step}"
