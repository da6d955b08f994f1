"""The coach's verdicts on synthetic curves: right signal, right epoch, no false alarm."""

from __future__ import annotations

import math

import pytest

from studio.engine.training.overfitting import Coach, History

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


def first_verdicts(history: History, classes: int) -> dict[str, tuple[int, int]]:
    """Feed the run epoch by epoch, as the trainer does: signal -> (epoch, began)."""
    coach, seen = Coach(classes=classes), {}
    for n in range(1, len(history) + 1):
        prefix = History(*(getattr(history, f)[:n] for f in History.__dataclass_fields__))
        for d in coach.update(prefix):
            seen[d.signal] = (d.epoch, d.began)
    return seen


@pytest.mark.parametrize(
    ("name", "history", "classes", "expected"),
    [
        ("clean convergence", CLEAN, 3, {}),
        ("noisy but fine", NOISY, 3, {}),
        ("classic overfit", OVERFIT, 3, {"accuracy_gap": (6, 5), "val_loss_rising": (9, 7)}),
        ("gap only", GAP, 3, {"accuracy_gap": (8, 7), "val_plateau": (9, 6)}),
        ("learning rate too high", LR_HIGH, 3, {"lr_too_high": (5, 1)}),
        ("underfitting", UNDERFIT, 3, {"underfitting": (4, 1)}),
    ],
)
def test_verdicts(name, history, classes, expected):
    assert first_verdicts(history, classes) == expected, name


def test_nan_loss_is_learning_rate_too_high():
    history = History([1.0, 0.8, float("nan")], [1.0, 0.9, float("nan")], [0.5] * 3, [0.5] * 3)
    (verdict,) = Coach().update(history)
    assert verdict.signal == "lr_too_high" and verdict.began == 3
