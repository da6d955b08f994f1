"""Will more data help? Per-class learning curves from quick models trained on 25, 50, 75 and
100 % of the training images, measured on the validation images.

Each share keeps every class's proportion (nested random subsets, repeated with a few seeds
and averaged) and trains for as many steps as the whole set does. For each class the
validation accuracy is fitted against the log of its training images: the gain per doubling
says whether the class is still data-limited (and about how many more images would buy a few
points) or has saturated. A class with fewer than
30 training images that is not learnt yet is data-limited whatever its slope.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from studio.config import ProjectConfig
from studio.engine.control import StopToken
from studio.engine.events import Event, EventSink, Progress
from studio.engine.results.quick_models import QuickSettings, fit_predict, image_pool, prepare
from studio.errors import StudioError

FRACTIONS = (0.25, 0.5, 0.75, 1.0)
REPEATS = 2
SATURATED_GAIN = 0.02  # accuracy points per doubling below which more images barely help
SATURATED_ACCURACY = 0.98
MIN_VAL_IMAGES = 5
TARGET_GAIN = 0.05
FEW_IMAGES = 30  # below this many training images, a class not yet learnt needs more


@dataclasses.dataclass(frozen=True)
class ClassCurve:
    """One class: its training images at each share and the validation accuracy they reached
    (``accuracy[i]`` with ``train_images[i]``), the verdict and its plain-words ``text``."""

    name: str
    train_images: list[int]
    accuracy: list[float]
    val_images: int
    gain_per_doubling: float
    verdict: str  # "data-limited" | "saturated" | "unknown"
    more_images: int | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class LearningCurve:
    """Every class's curve, the overall accuracy per share, and how it was measured."""

    fractions: list[float]
    classes: list[ClassCurve]
    overall: list[float]
    train_images: list[int]
    method: str
    seconds: float

    def summary(self) -> str:
        limited = [c.name for c in self.classes if c.verdict == "data-limited"]
        if limited:
            return f"More images would likely help: {', '.join(limited)}."
        return "No class looks data-limited: more of the same images would barely help."

    def to_dict(self) -> dict[str, Any]:
        return {
            "fractions": self.fractions,
            "train_images": self.train_images,
            "overall": self.overall,
            "method": self.method,
            "seconds": self.seconds,
            "summary": self.summary(),
            "classes": [c.to_dict() for c in self.classes],
        }


def learning_curve(
    config: ProjectConfig,
    token: StopToken | None = None,
    sink: EventSink | None = None,
    cache_dir: Path | None = None,
    quick: QuickSettings | None = None,
    repeats: int = REPEATS,
) -> LearningCurve:
    """Train quick models on growing shares of ``config``'s training images and judge each
    class on the validation images. Progress goes to ``sink``; ``token`` cancels."""
    token = token or StopToken()
    quick = quick or QuickSettings(seed=config.train.seed)
    emit = sink or (lambda event: None)
    started = time.perf_counter()
    emit(Progress(stage="Reading the dataset", done=0, total=1))
    pool = image_pool(config, token)
    train, val = pool.where("train"), pool.where("val")
    if len(val) == 0:
        raise StudioError("Learning curves need validation images: set a validation share.")
    inputs = prepare(config, pool, quick, token, emit, cache_dir)
    k = len(pool.classes)
    jobs = [(f, r) for f in FRACTIONS for r in range(1 if f == 1.0 else repeats)]
    correct = {f: np.zeros(len(val)) for f in FRACTIONS}
    counts = {f: np.zeros(k) for f in FRACTIONS}
    runs = {f: 0 for f in FRACTIONS}
    for done, (fraction, repeat) in enumerate(jobs):
        stage = f"Training on {fraction:.0%} of the images"

        def step(event: Event, stage: str = stage, done: int = done) -> None:
            if isinstance(event, Progress):
                emit(
                    Progress(
                        stage=stage,
                        done=done * event.total + event.done,
                        total=len(jobs) * event.total,
                    )
                )

        emit(Progress(stage=stage, done=done, total=len(jobs)))
        subset = _subset(pool.labels, train, fraction, quick.seed + repeat)
        seed = quick.seed + 100 * repeat + int(fraction * 100)
        # as many steps on a share as on all images, so a small share is not under-trained
        same_steps = dataclasses.replace(quick, epochs=math.ceil(quick.epochs / fraction))
        probs = fit_predict(inputs, pool.labels, k, subset, val, same_steps, token, step, seed)
        correct[fraction] += probs.argmax(axis=1) == pool.labels[val]
        counts[fraction] += np.bincount(pool.labels[subset], minlength=k)
        runs[fraction] += 1
    y_val = pool.labels[val]
    val_counts = np.bincount(y_val, minlength=k)
    curves = []
    for c, name in enumerate(pool.classes):
        sizes = [int(counts[f][c] / runs[f] + 0.5) for f in FRACTIONS]
        mask = y_val == c
        acc = [
            float(correct[f][mask].sum() / (runs[f] * mask.sum())) if mask.any() else math.nan
            for f in FRACTIONS
        ]
        curves.append(judge(name, sizes, acc, int(val_counts[c])))
    overall = [float(correct[f].sum() / (runs[f] * len(val))) for f in FRACTIONS]
    totals = [int(counts[f].sum() / runs[f] + 0.5) for f in FRACTIONS]
    return LearningCurve(
        fractions=list(FRACTIONS),
        classes=curves,
        overall=overall,
        train_images=totals,
        method=inputs.method,
        seconds=time.perf_counter() - started,
    )


def _subset(labels: np.ndarray, train: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """``fraction`` of each class's training rows (at least one), nested across fractions
    for one seed."""
    rng = np.random.default_rng(seed)
    chosen: list[int] = []
    for c in np.unique(labels[train]):
        rows = train[labels[train] == c]
        rows = rows[rng.permutation(len(rows))]
        chosen.extend(rows[: max(1, round(fraction * len(rows)))].tolist())
    return np.array(sorted(chosen), dtype=int)


def judge(name: str, sizes: list[int], accuracy: list[float], val_images: int) -> ClassCurve:
    """The verdict for one class from its curve: data-limited (with about how many more
    images would gain a few points), saturated, or unknown (too few validation images)."""
    gain = _gain_per_doubling(sizes, accuracy)
    last, n = accuracy[-1], sizes[-1]
    rise = f"{accuracy[0]:.0%} → {last:.0%} from {sizes[0]} to {n} training images"
    few = n < FEW_IMAGES and last < SATURATED_ACCURACY
    if val_images < MIN_VAL_IMAGES or math.isnan(last):
        verdict, more = "unknown", None
        text = f"not enough validation images to tell ({val_images})"
    elif not few and (last >= SATURATED_ACCURACY or gain < SATURATED_GAIN):
        verdict, more = "saturated", None
        text = f"saturated: more of the same images would barely help ({rise})"
        if last < 0.9:
            text += "; check its labels, or try a bigger or pre-trained model"
    else:
        target = min(TARGET_GAIN, (1.0 - last) / 2)
        estimate = n * (2 ** (target / gain) - 1) if gain >= SATURATED_GAIN else 0.0
        more = _round_up(max(estimate, FEW_IMAGES - n if few else 0))
        verdict = "data-limited"
        trend = f"+{gain * 100:.0f} points per doubling; " if gain >= SATURATED_GAIN else ""
        text = f"data-limited: about {more} more images would likely help ({trend}{rise})"
    return ClassCurve(name, sizes, accuracy, val_images, gain, verdict, more, text)


def _gain_per_doubling(sizes: list[int], accuracy: list[float]) -> float:
    """Least-squares slope of accuracy against log2(training images)."""
    points = [(math.log2(n), a) for n, a in zip(sizes, accuracy, strict=True) if n > 0]
    xs = np.array([p[0] for p in points])
    ys = np.array([p[1] for p in points])
    if len(points) < 2 or np.ptp(xs) == 0 or np.isnan(ys).any():
        return 0.0
    return float(np.polyfit(xs, ys, 1)[0])


def _round_up(value: float) -> int:
    """A round number of images: at least 5, two significant figures."""
    value = max(5.0, value)
    scale = 10 ** max(0, math.floor(math.log10(value)) - 1)
    return int(math.ceil(value / scale) * scale)
