"""The coach's verdicts on synthetic curves: right signal, right epoch, no false alarm."""

from __future__ import annotations

import math

import pytest

from studio.engine.training.overfitting import Coach, History, small_validation

EPOCHS = 20


def curve(f) -> list[float]:
    return [f(e) for e in range(1, EPOCHS + 1)]


def wobble(e: int, size: float) -> float:
    return size * math.sin(2.7 * e)  # deterministic "noise"


CLEAN = History(
    train_loss=curve(lambda e: 0.1 + 0.9 * math.exp(-e / 3)),
    val_loss=curve(lambda e: 0.15 + 0.9 * math.exp(-e / 3)),
    train_acc=curve(lambda e: 0.95 - 0.6 * math.exp(-e / 3)),
    val_acc=curve(lambda e: 0.93 - 0.6 * math.exp(-e / 3)),
)
NOISY = History(
    train_loss=curve(lambda e: 0.2 + 0.8 * math.exp(-e / 4) + wobble(e, 0.02)),
    val_loss=curve(lambda e: 0.3 + 0.8 * math.exp(-e / 4) + wobble(e + 1, 0.06)),
    train_acc=curve(lambda e: 0.9 - 0.5 * math.exp(-e / 4) + wobble(e, 0.01)),
    val_acc=curve(lambda e: 0.86 - 0.5 * math.exp(-e / 4) + wobble(e + 2, 0.03)),
)
OVERFIT = History(  # validation loss bottoms out at epoch 6, then climbs
    train_loss=curve(lambda e: 1.0 * math.exp(-e / 3)),
    val_loss=curve(lambda e: 0.5 + 0.03 * (e - 6) ** 2),
    train_acc=curve(lambda e: 1.0 - 0.5 * math.exp(-e / 3)),
    val_acc=curve(lambda e: 0.8 - 0.3 * math.exp(-e / 3)),
)
GAP = History(  # losses look fine, but training accuracy runs away from validation
    train_loss=curve(lambda e: 0.3 + 0.7 * math.exp(-e / 3)),
    val_loss=curve(lambda e: 0.45 + 0.6 * math.exp(-e / 3)),
    train_acc=curve(lambda e: min(0.99, 0.55 + 0.04 * e)),
    val_acc=curve(lambda e: 0.6 + 0.05 * (1 - math.exp(-e / 3))),
)
LR_HIGH = History(
    train_loss=curve(lambda e: 1.0 + (0.6 if e % 2 else -0.3)),
    val_loss=curve(lambda e: 1.1 + (0.5 if e % 2 else -0.2)),
    train_acc=curve(lambda e: 0.45 + (0.1 if e % 2 else 0.0)),
    val_acc=curve(lambda e: 0.42 + (0.1 if e % 2 else 0.0)),
)
UNDERFIT = History(  # 3 classes, stuck near chance
    train_loss=curve(lambda e: 1.09 - 0.002 * e),
    val_loss=curve(lambda e: 1.1 - 0.001 * e),
    train_acc=curve(lambda e: 0.36 + 0.001 * e),
    val_acc=curve(lambda e: 0.34 + 0.001 * e),
)


BN_SETTLING = History(  # 200 face patches: validation lags for two epochs, then 100 %
    train_loss=[0.6, 0.2, 0.08, 0.04, 0.03, 0.02, 0.02, 0.01, 0.01, 0.01],
    val_loss=[0.7, 1.4, 1.2, 0.9, 0.05, 0.03, 0.02, 0.02, 0.02, 0.01],
    train_acc=[0.7, 0.93, 0.98, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
    val_acc=[0.5, 0.5, 0.55, 0.6, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
)
DIP_THEN_RECOVER = History(  # looks like overfitting at epochs 6-9, then a new best
    train_loss=curve(lambda e: 0.8 * math.exp(-e / 4) + 0.05),
    val_loss=curve(lambda e: 0.3 + 0.5 * math.exp(-e / 4) + (0.15 if 6 <= e <= 9 else 0.0)),
    train_acc=curve(lambda e: min(0.99, 0.6 + 0.05 * e)),
    val_acc=curve(
        lambda e: 0.6 + 0.04 * min(e, 5) - (0.12 if 6 <= e <= 9 else 0.0) + 0.03 * max(0, e - 9)
    ),
)


def prefix(history: History, n: int) -> History:
    return History(*(getattr(history, f)[:n] for f in History.__dataclass_fields__))


def replay(history: History, classes: int) -> tuple[dict[str, tuple[int, int]], dict[str, int]]:
    """Feed the run epoch by epoch, as the trainer does: signal -> (epoch, began) of its first
    alarm, and signal -> epoch where it was withdrawn."""
    coach, seen, cleared = Coach(classes=classes), {}, {}
    for n in range(1, len(history) + 1):
        new, gone = coach.update(prefix(history, n))
        for d in new:
            seen.setdefault(d.signal, (d.epoch, d.began))
        for d in gone:
            cleared[d.signal] = n
    return seen, cleared


def first_verdicts(history: History, classes: int) -> dict[str, tuple[int, int]]:
    return replay(history, classes)[0]


@pytest.mark.parametrize(
    ("name", "history", "classes", "expected"),
    [
        ("clean convergence", CLEAN, 3, {}),
        ("noisy but fine", NOISY, 3, {}),
        ("classic overfit", OVERFIT, 3, {"accuracy_gap": (8, 5), "val_loss_rising": (9, 7)}),
        ("batchnorm settling", BN_SETTLING, 2, {}),
        ("gap only", GAP, 3, {"accuracy_gap": (8, 7), "val_plateau": (9, 6)}),
        ("learning rate too high", LR_HIGH, 3, {"lr_too_high": (5, 1)}),
        ("underfitting", UNDERFIT, 3, {"underfitting": (4, 1)}),
    ],
)
def test_verdicts(name, history, classes, expected):
    assert first_verdicts(history, classes) == expected, name


def test_an_alarm_that_later_epochs_contradict_is_withdrawn():
    seen, cleared = replay(DIP_THEN_RECOVER, 3)
    assert set(seen) == {"accuracy_gap", "val_plateau"}
    assert cleared == {"val_plateau": 10, "accuracy_gap": 11}
    coach = Coach(classes=3)
    for n in range(1, len(DIP_THEN_RECOVER) + 1):
        coach.update(prefix(DIP_THEN_RECOVER, n))
    assert coach.active == {}  # nothing left to show at the end


def test_real_overfitting_is_never_withdrawn_and_the_verdict_names_it():
    coach = Coach(classes=3)
    for n in range(1, len(OVERFIT) + 1):
        coach.update(prefix(OVERFIT, n))
    assert set(coach.active) == {"accuracy_gap", "val_loss_rising"}
    text = coach.verdict(OVERFIT, stopped_early=False)
    assert text.startswith("Overfitting from epoch 5;") and "best epoch 20 kept" in text


def test_verdict_of_a_clean_run_and_of_an_early_stop():
    coach = Coach(classes=3)
    for n in range(1, len(CLEAN) + 1):
        coach.update(prefix(CLEAN, n))
    assert "train longer" in coach.verdict(CLEAN, stopped_early=False)
    stopped = coach.verdict(prefix(CLEAN, 12), stopped_early=True)
    assert "stopped early" in stopped.lower() and "train longer" not in stopped


def test_no_train_longer_once_validation_is_perfect():
    perfect = History([1.0, 0.4], [1.0, 0.3], [0.6, 0.9], [0.8, 1.0])
    text = Coach(classes=5).verdict(perfect, stopped_early=False)
    assert "train longer" not in text and "test set" in text


def test_small_validation_split_is_called_too_coarse():
    warning = small_validation(7)
    assert warning is not None and "worth 14 points" in warning.detail
    assert small_validation(200) is None


def test_nan_loss_is_learning_rate_too_high():
    history = History([1.0, 0.8, float("nan")], [1.0, 0.9, float("nan")], [0.5] * 3, [0.5] * 3)
    (verdict,), cleared = Coach().update(history)
    assert cleared == []
    assert verdict.signal == "lr_too_high" and verdict.began == 3
