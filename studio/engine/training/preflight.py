"""The pre-flight check: seconds of tests that catch a broken pipeline before a long run.

Five checks on a small sample of the data, decoded once and kept in memory, with the run's
own model, loss, optimizer and augmentation (built once, as
:func:`studio.engine.training.trainer._prepare` builds a run):

1. the loss at initialisation is about ln(classes) (the model starts out unsure);
2. one batch can be overfit to ~100 % (the model, loss and optimizer can learn at all);
3. a short learning-rate sweep finds where the loss falls, and the rate set is in that range;
4. a short training beats a control trained on shuffled labels, which must stay near chance
   (the labels belong to the images, and nothing leaks the answer);
5. the augmented images are still recognised as their class (no label-changing transform).

About 110 optimizer steps of 16 images in all, so the check takes seconds with a small model.

Each failed check names the likely cause and the fix. A plain function with a stop token and
an event sink, for the window's worker and ``studio check``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from typing import Any

from studio.config import ProjectConfig
from studio.engine.control import StopToken
from studio.engine.events import EventSink, PreflightStep

SAMPLE_TRAIN = 128  # training images the short trainings use
SAMPLE_VAL = 64
OVERFIT_BATCH = 16
CHECK_BATCH = 16  # images a step of the sweep and the short trainings
OVERFIT_STEPS = 30
SHORT_STEPS = 24  # optimizer steps of each short training (real and shuffled labels)
SWEEP_STEPS = 30
CHECKS = ("initial loss", "overfit one batch", "lr", "shuffled-label control", "augmentation")
TITLES = {
    "initial loss": "Loss at the start ≈ ln(classes)",
    "overfit one batch": "One batch can be learnt by heart",
    "lr": "The learning rate is usable",
    "shuffled-label control": "Real labels beat shuffled labels",
    "augmentation": "Augmented images keep their class",
}


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """One check: ``passed``, what was measured and, when it failed, the likely cause and
    the fix in plain words."""

    name: str
    passed: bool
    measured: str
    fix: str = ""


@dataclasses.dataclass(frozen=True)
class PreflightReport:
    results: list[CheckResult]
    seconds: float

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "seconds": round(self.seconds, 2),
            "checks": [dataclasses.asdict(r) for r in self.results],
        }


def preflight(
    config: ProjectConfig, token: StopToken | None = None, sink: EventSink | None = None
) -> PreflightReport:
    """Run the checks on ``config`` (resolved: the settings a run would use). Raises
    :class:`~studio.engine.training.steps.Stopped` when ``token`` stops it."""
    import time

    import torch

    from studio.engine.augment.advice import augmentation_warnings
    from studio.engine.training.lr_finder import sweep
    from studio.engine.training.steps import Stopped
    from studio.engine.training.trainer import _prepare

    token = token or StopToken()
    sink = sink or (lambda event: None)
    started = time.perf_counter()
    trial = config.model_copy(deep=True)
    trial.train.schedule = "constant"
    trial.train.num_workers = 0
    run = _prepare(trial, lambda event: None, None, token)
    classes = len(run.classes)
    model = run.model
    initial = {k: v.detach().clone() for k, v in model.state_dict().items()}
    optimizer_state = _copy(run.optimizer.state_dict())

    def restart() -> None:
        model.load_state_dict(initial)
        run.optimizer.load_state_dict(_copy(optimizer_state))

    def stop_point() -> None:
        if token.should_stop():
            raise Stopped

    train_paths, train_labels = _sample(run.train_ds, SAMPLE_TRAIN, trial.train.seed)
    val_paths, val_labels = _sample(run.val_ds, SAMPLE_VAL, trial.train.seed)
    clean = run.val_ds.transform  # the evaluation preprocessing
    x_train = _tensors(train_paths, clean, stop_point)
    y_train = torch.tensor(train_labels)
    x_val = _tensors(val_paths, clean, stop_point)
    y_val = torch.tensor(val_labels)
    x_augmented = _tensors(val_paths, run.train_ds.transform, stop_point)
    batch = min(len(y_train), CHECK_BATCH)
    results: list[CheckResult] = []

    def report(result: CheckResult) -> None:
        results.append(result)
        sink(PreflightStep(result.name, len(results), len(CHECKS), result.passed, result.measured))

    # 1. the loss at initialisation
    sink(PreflightStep(CHECKS[0], 0, len(CHECKS)))
    expected = math.log(classes)
    loss0 = _loss(run, x_train[:batch], y_train[:batch])
    tolerance = max(0.5, 0.35 * expected)
    ok = math.isfinite(loss0) and abs(loss0 - expected) <= tolerance
    report(
        CheckResult(
            CHECKS[0],
            ok,
            f"loss {loss0:.2f} at the start, ln({classes}) = {expected:.2f}",
            ""
            if ok
            else (
                "The untrained model is already confident, so it starts from a wrong guess: "
                "the new head was not reset to small weights (a weights file with another "
                "head?), or the images are not normalised. Use fresh weights or 'imagenet'."
            ),
        )
    )
    stop_point()

    # 2. overfit one batch
    model.train()
    accuracy = 0.0
    finite = True
    small = min(len(y_train), OVERFIT_BATCH)
    for _ in range(OVERFIT_STEPS):
        stop_point()
        value = _step(run, x_train[:small], y_train[:small])
        if not math.isfinite(value):
            finite = False
            break
    if finite:
        accuracy = _accuracy(run, x_train[:small], y_train[:small])
    ok = finite and accuracy >= 0.9
    lr = trial.train.learning_rate
    report(
        CheckResult(
            CHECKS[1],
            ok,
            f"{accuracy:.0%} of one batch of {small} after {OVERFIT_STEPS} steps"
            if finite
            else "the loss became NaN or infinite",
            ""
            if ok
            else (
                f"The model cannot even learn {small} images by heart: the learning rate "
                f"{lr:g} is probably too high (the loss explodes) or too low, or every layer "
                "is frozen. Try the learning rate the sweep suggests (about 1e-3 for AdamW)."
            ),
        )
    )

    # 3. a short learning-rate sweep: the rate set must lie where the loss falls
    restart()
    finding = sweep(run, _batches(x_train, y_train, batch), token, steps=SWEEP_STEPS)
    suggestion = finding.suggestion
    lowest = finding.lrs[min(range(len(finding.losses)), key=finding.losses.__getitem__)]
    usable = len(finding.lrs) >= 5 and 1e-6 <= suggestion <= 1.0
    low, high = suggestion / 100, max(lowest, suggestion)
    ok = usable and low <= lr <= high
    if not usable:
        fix = "The loss did not fall at any learning rate: check the labels and the data."
    elif lr > high:
        fix = (
            f"A learning rate of {lr:g} is too high: in the sweep the loss stopped falling "
            f"above {high:.1e}, so training would explode. Set about {_round(suggestion)}."
        )
    else:
        fix = (
            f"A learning rate of {lr:g} is too low: the sweep found the loss falling fastest "
            f"at {suggestion:.1e}, so this run would learn very slowly. Set about "
            f"{_round(suggestion)}."
        )
    report(
        CheckResult(
            CHECKS[2],
            ok,
            f"the loss falls from about {low:.0e} to {high:.1e} (fastest at {suggestion:.1e}); "
            f"the run uses {lr:g}",
            "" if ok else fix,
        )
    )
    # the short trainings learn at 3x the run's rate (within the range the sweep found), so
    # 24 steps reach what a run reaches in its first epochs; at the sweep's rate when the set
    # one is unusable, so the label check is judged on its own
    rate = min(3 * lr, high) if ok or not usable else suggestion / 10

    # 4. real labels against shuffled labels, each trained briefly from the same start
    restart()
    _set_rate(run, rate)
    real = _short_training(run, x_train, y_train, x_val, y_val, batch, stop_point)
    learnt = {k: v.detach().clone() for k, v in model.state_dict().items()}
    restart()
    _set_rate(run, rate)
    shuffled = _uninformative(y_train, classes, trial.train.seed)
    control = _short_training(run, x_train, shuffled, x_val, y_val, batch, stop_point)
    chance = 1 / classes
    margin = max(0.15, 1.5 * math.sqrt(chance * (1 - chance) / max(1, len(y_val))))
    leak = control > chance + margin + 0.1
    ok = real >= control + margin and not leak
    if leak:
        fix = (
            f"A model trained on shuffled labels still scores {control:.0%} (chance is "
            f"{chance:.0%}): something other than the image gives the answer away, e.g. the "
            "same images in training and validation. Run the data health check for "
            "duplicates."
        )
    else:
        fix = (
            "Training on the real labels does no better than on shuffled ones: the labels "
            "probably do not match the images (files in the wrong class folders), or the "
            "classes cannot be told apart at this image size. Check a few images per class "
            "in the dataset browser."
        )
    report(
        CheckResult(
            CHECKS[3],
            ok,
            f"validation accuracy {real:.0%} with the real labels, {control:.0%} with "
            f"shuffled labels (chance {chance:.0%})",
            "" if ok else fix,
        )
    )

    # 5. the augmented images still look like their class
    model.load_state_dict(learnt)
    clean_acc = _accuracy(run, x_val, y_val)
    augmented_acc = _accuracy(run, x_augmented, y_val)
    names = list(run.classes)
    advice = augmentation_warnings(trial.augment, names)
    drop = clean_acc - augmented_acc
    ok = not advice and drop <= 0.25
    if advice:
        fix = f"{advice[0].text} (Augmentation tab, {advice[0].step.replace('_', ' ')})."
    else:
        fix = (
            "Augmented images are recognised far less often than the originals: a step "
            "changes what the image shows (a flip of a direction, a crop that cuts the object "
            "away, a colour shift between colour classes). Preview the training batch and "
            "tone down the strongest step."
        )
    report(
        CheckResult(
            CHECKS[4],
            ok,
            f"the briefly trained model recognises {clean_acc:.0%} of validation images "
            f"and {augmented_acc:.0%} of their augmented versions",
            "" if ok else fix,
        )
    )
    return PreflightReport(results, time.perf_counter() - started)


def _copy(state: Any) -> Any:
    import copy

    return copy.deepcopy(state)


def _sample(dataset: Any, count: int, seed: int) -> tuple[list, list[int]]:
    """Up to ``count`` files of ``dataset``, spread over it by a seeded shuffle."""
    import random

    order = list(range(len(dataset.paths)))
    random.Random(seed).shuffle(order)
    chosen = order[:count]
    return [dataset.paths[i] for i in chosen], [dataset.labels[i] for i in chosen]


def _tensors(paths: list, transform: Any, stop_point: Any) -> Any:
    import torch

    from studio.engine.data.loaders import ImageDataset

    dataset = ImageDataset(paths, [0] * len(paths), transform)
    images = []
    for i in range(len(dataset)):
        stop_point()
        images.append(dataset[i][0])
    return torch.stack(images)


def _loss(run: Any, images: Any, labels: Any) -> float:
    import torch

    run.model.eval()
    with torch.no_grad():
        logits = run.model(images.to(run.device))
        return float(torch.nn.functional.cross_entropy(logits, labels.to(run.device)))


def _accuracy(run: Any, images: Any, labels: Any) -> float:
    import torch

    run.model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(labels), 64):
            logits = run.model(images[start : start + 64].to(run.device))
            correct += int((logits.argmax(1).cpu() == labels[start : start + 64]).sum())
    return correct / max(1, len(labels))


def _step(run: Any, images: Any, labels: Any) -> float:
    from studio.engine.training.steps import train_step

    run.model.train()
    loss, _, _ = train_step(run, images, labels)
    return float(loss.detach())


def _batches(x: Any, y: Any, batch: int, seed: int = 0) -> Iterator[tuple[Any, Any]]:
    """Batches of the in-memory sample, reshuffled each pass, without end."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    while len(y) >= 2:
        order = torch.randperm(len(y), generator=generator)
        for start in range(0, len(y) - 1, batch):
            rows = order[start : start + batch]
            if len(rows) >= 2:  # BatchNorm needs two images
                yield x[rows], y[rows]


def _uninformative(y: Any, classes: int, seed: int) -> Any:
    """Shuffled labels that tell nothing about the images: within each class, its images'
    labels go round every class in turn (in a seeded order), the true class getting no more
    than any other. A plain shuffle of a small sample can leave one label the most common
    in a class, which a model then learns."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    out = y.clone()
    for c in range(classes):
        rows = (y == c).nonzero().flatten()
        rows = rows[torch.randperm(len(rows), generator=generator)]
        out[rows] = (c + 1 + torch.arange(len(rows))) % classes
    return out


def _set_rate(run: Any, lr: float) -> None:
    """Every parameter group at ``lr`` times its ratio to the run's rate."""
    base = run.config.train.learning_rate
    for group in run.optimizer.param_groups:
        group["lr"] = group["lr"] / base * lr


def _round(lr: float) -> str:
    return f"{float(f'{lr:.1g}'):g}"


def _short_training(
    run: Any, x: Any, y: Any, x_val: Any, y_val: Any, batch: int, stop_point: Any
) -> float:
    """:data:`SHORT_STEPS` steps over the sample; the validation accuracy after them."""
    for _, (images, labels) in zip(range(SHORT_STEPS), _batches(x, y, batch), strict=False):
        stop_point()
        if not math.isfinite(_step(run, images, labels)):
            return 0.0
    return _accuracy(run, x_val, y_val)
