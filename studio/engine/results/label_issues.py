"""Find images whose label is probably wrong, across the whole training and validation set.

Every image gets an out-of-fold prediction: the images are dealt into ``K`` stratified folds
and each fold is predicted by a quick model trained on the other folds
(:mod:`studio.engine.results.quick_models`), so no image is judged by a model that saw it.
cleanlab's confident learning then scores each given label (``get_label_quality_scores``)
and flags the likely errors (``find_label_issues``). Nothing here changes any file: the
user's decisions (relabel, exclude, keep) live in the project's data settings.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from studio.config import ProjectConfig
from studio.engine.control import StopToken
from studio.engine.events import Event, EventSink, Progress
from studio.engine.results.quick_models import (
    Pool,
    QuickSettings,
    fit_predict,
    image_pool,
    prepare,
)
from studio.errors import StudioError

DEFAULT_FOLDS = 5


@dataclasses.dataclass(frozen=True)
class LabelIssue:
    """One image: its ``given`` label, the ``suggested`` class (the out-of-fold prediction)
    with its ``confidence``, and ``score``, how likely the given label is wrong (0–1, from
    cleanlab's label quality). ``flagged`` when cleanlab counts it among the likely errors."""

    path: Path
    given: str
    suggested: str
    confidence: float
    score: float
    flagged: bool
    split: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "given": self.given,
            "suggested": self.suggested,
            "confidence": round(self.confidence, 4),
            "score": round(self.score, 4),
            "flagged": self.flagged,
            "split": self.split,
        }


@dataclasses.dataclass
class LabelIssueReport:
    """Every image, most likely mislabelled first; how the predictions were made."""

    images: list[LabelIssue]
    classes: list[str]
    folds: int
    method: str
    agreement: float  # share of images whose out-of-fold prediction is the given label
    seconds: float
    kept: int = 0  # images the user already checked and kept, left out of the list

    @property
    def flagged(self) -> list[LabelIssue]:
        return [im for im in self.images if im.flagged]

    def summary(self) -> str:
        return (
            f"{len(self.flagged)} of {len(self.images)} images look mislabelled "
            f"(out-of-fold predictions from {self.method}, {self.folds} folds; they agree "
            f"with {self.agreement:.1%} of the given labels; {self.seconds:.1f} s)."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "classes": self.classes,
            "folds": self.folds,
            "method": self.method,
            "agreement": self.agreement,
            "seconds": self.seconds,
            "kept": self.kept,
            "flagged": len(self.flagged),
            "images": [im.to_dict() for im in self.images],
        }


def find_label_issues(
    config: ProjectConfig,
    folds: int = DEFAULT_FOLDS,
    token: StopToken | None = None,
    sink: EventSink | None = None,
    cache_dir: Path | None = None,
    quick: QuickSettings | None = None,
) -> LabelIssueReport:
    """Out-of-fold predictions for the training and validation images of ``config``, ranked
    by how likely each given label is wrong. Progress goes to ``sink`` as :class:`Progress`
    events; ``token`` cancels (:class:`Cancelled`)."""
    token = token or StopToken()
    quick = quick or QuickSettings(seed=config.train.seed)
    emit = sink or (lambda event: None)
    if folds < 2:
        raise StudioError("Label issues need at least 2 folds.")
    started = time.perf_counter()
    emit(Progress(stage="Reading the dataset", done=0, total=1))
    pool = image_pool(config, token)
    counts = np.bincount(pool.labels, minlength=len(pool.classes))
    present = counts[counts > 0]
    if len(present) < 2:
        raise StudioError("Label issues need at least 2 classes with images.")
    if present.min() < 2:
        small = pool.classes[int(np.flatnonzero(counts == present.min())[0])]
        raise StudioError(f"Class {small} has a single image: cross-validation needs 2 or more.")
    folds = int(min(folds, present.min()))
    inputs = prepare(config, pool, quick, token, emit, cache_dir)
    probs = np.zeros((len(pool), len(pool.classes)))
    for fold, (train, test) in enumerate(_folds(pool.labels, folds, quick.seed)):
        stage = f"Fold {fold + 1} of {folds}"

        def step(event: Event, stage: str = stage, fold: int = fold) -> None:
            if isinstance(event, Progress):  # epochs within the fold
                done = fold * event.total + event.done
                emit(Progress(stage=stage, done=done, total=folds * event.total))

        emit(Progress(stage=stage, done=fold, total=folds))
        probs[test] = fit_predict(
            inputs,
            pool.labels,
            len(pool.classes),
            train,
            test,
            quick,
            token,
            step,
            seed=quick.seed + fold,
        )
    emit(Progress(stage="Scoring labels", done=folds, total=folds))
    images = _rank(pool, probs)
    kept = {Path(p) for p in config.data.kept_files}
    shown = [im for im in images if im.path not in kept]
    agreement = float(np.mean(probs.argmax(axis=1) == pool.labels))
    return LabelIssueReport(
        images=shown,
        classes=pool.classes,
        folds=folds,
        method=inputs.method,
        agreement=agreement,
        seconds=time.perf_counter() - started,
        kept=len(images) - len(shown),
    )


def _folds(labels: np.ndarray, folds: int, seed: int):
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():  # a class with fewer images than folds is fine here
        warnings.simplefilter("ignore", UserWarning)
        yield from splitter.split(np.zeros(len(labels)), labels)


def _rank(pool: Pool, probs: np.ndarray) -> list[LabelIssue]:
    from cleanlab.filter import find_label_issues as cleanlab_issues
    from cleanlab.rank import get_label_quality_scores

    labels = pool.labels
    probs = np.clip(probs, 1e-9, None)
    probs = probs / probs.sum(axis=1, keepdims=True)
    quality = get_label_quality_scores(labels, probs, method="self_confidence")
    with warnings.catch_warnings():  # cleanlab warns when a class has no likely errors
        warnings.simplefilter("ignore")
        flagged = cleanlab_issues(labels, probs, filter_by="prune_by_noise_rate", n_jobs=1)
    suggested = probs.argmax(axis=1)
    order = np.lexsort((np.arange(len(labels)), quality))  # worst label first, stable
    return [
        LabelIssue(
            path=pool.paths[i],
            given=pool.classes[labels[i]],
            suggested=pool.classes[suggested[i]],
            confidence=float(probs[i, suggested[i]]),
            score=float(1.0 - quality[i]),
            flagged=bool(flagged[i]),
            split=pool.splits[i],
        )
        for i in order
    ]
