"""Quick models for questions about the data rather than about one run: out-of-fold
predictions (which labels look wrong) and learning curves (would more images help).

Both train many small models, so they must be cheap. With pre-trained weights the frozen
backbone runs once over every image (validation preprocessing) and a logistic regression
learns on its features: seconds, and the features are cached on disk. A model trained from
scratch is retrained small instead: the small CNN on tiny images for a few epochs, through the
one inner training step (:func:`studio.engine.training.steps.train_epoch`).

The images are the project's training and validation files, with the user's edits applied;
the test split stays sealed and is never looked at here.
"""

from __future__ import annotations

import dataclasses
import warnings
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from studio.config import ProjectConfig, TrainConfig
from studio.engine.augment.pipeline import eval_transform
from studio.engine.control import StopToken
from studio.engine.data.images import ImageError, load_rgb
from studio.engine.data.index import Edits, trainable_index
from studio.engine.data.splits import assign_splits, content_keys
from studio.engine.events import BatchEnded, Event, EventSink, Progress
from studio.engine.models.catalog import get_spec
from studio.engine.models.factory import SmallCNN, create_model, without_head
from studio.engine.models.inference import infer
from studio.engine.models.weights import normalisation
from studio.engine.runs.checkpoints import save_weights
from studio.errors import StudioError

BATCH = 64


class Cancelled(StudioError):
    """The stop token fired."""

    def __init__(self) -> None:
        super().__init__("Cancelled.")


@dataclasses.dataclass(frozen=True)
class QuickSettings:
    """How the quick models train: ``image_size``, ``epochs`` and ``width`` (channels of the
    first block) of the small-CNN retrains (from-scratch models only), and the seed of
    folds, subsets and initial weights."""

    image_size: int = 24
    epochs: int = 6
    width: int = 16
    seed: int = 0


@dataclasses.dataclass(frozen=True)
class Pool:
    """The images asked about: ``labels[i]`` indexes ``classes``; ``splits[i]`` is ``train``
    or ``val`` as the project's split puts the file (the test split is left out)."""

    classes: list[str]
    paths: list[Path]
    labels: np.ndarray
    splits: list[str]
    keys: list[str]

    def __len__(self) -> int:
        return len(self.paths)

    def where(self, split: str) -> np.ndarray:
        return np.array([i for i, s in enumerate(self.splits) if s == split], dtype=int)


@dataclasses.dataclass
class Inputs:
    """What the quick models learn from: backbone ``features`` (``N x D``) or tiny
    ``pixels`` (``N x 3 x S x S``), one row per pool image, and a phrase saying which."""

    x: torch.Tensor
    kind: str  # "features" | "pixels"
    method: str


def image_pool(config: ProjectConfig, token: StopToken | None = None) -> Pool:
    """The training and validation files of ``config``'s data, split as training splits them."""
    data = config.data
    index, _ = trainable_index(data.sources, Edits.of(data))
    keys = content_keys(index.paths, token)
    if keys is None:
        raise Cancelled
    assigned = assign_splits(
        keys, index.labels, index.splits, data.val_fraction, data.test_fraction, config.train.seed
    )
    keep = [i for i, split in enumerate(assigned) if split != "test"]
    return Pool(
        classes=list(index.classes),
        paths=[index.paths[i] for i in keep],
        labels=np.asarray([index.labels[i] for i in keep], dtype=int),
        splits=[assigned[i] for i in keep],
        keys=[keys[i] for i in keep],
    )


def uses_features(config: ProjectConfig) -> bool:
    """Pre-trained weights: learn on the frozen backbone's features (else retrain small)."""
    pretrained = get_spec(config.model.name).torchvision_name is not None
    return pretrained and config.model.weights != "none"


def prepare(
    config: ProjectConfig,
    pool: Pool,
    quick: QuickSettings,
    token: StopToken,
    sink: EventSink,
    cache_dir: Path | None = None,
) -> Inputs:
    """Decode every pool image once: backbone features (cached in ``cache_dir`` by model,
    weights, size and file contents) or tiny normalised pixels."""
    if uses_features(config):
        return _features(config, pool, token, sink, cache_dir)
    size = min(quick.image_size, config.train.image_size)
    mean, std = normalisation(get_spec("small_cnn"))
    x = _decode(pool.paths, eval_transform(size, mean, std), size, token, sink, "Reading images")
    return Inputs(x, "pixels", f"the small CNN retrained on {size} px images")


def _features(
    config: ProjectConfig,
    pool: Pool,
    token: StopToken,
    sink: EventSink,
    cache_dir: Path | None,
) -> Inputs:
    from studio.engine.training.feature_cache import cache_key

    spec = get_spec(config.model.name)
    mean, std = normalisation(spec)
    key = cache_key(config, mean, std, pool.keys, [])
    method = f"{spec.title} features and a logistic regression"
    path = cache_dir / f"features-{key}.safetensors" if cache_dir is not None else None
    if path is not None and path.is_file():
        from safetensors.torch import load_file

        return Inputs(load_file(str(path))["x"], "features", method)
    from studio.engine.device import pick_device

    size = config.train.image_size
    model = create_model(
        config.model.name, len(pool.classes), config.model.weights, 0.0, image_size=size
    )
    device = pick_device(config.train.device)
    transform = eval_transform(size, mean, std)
    total = len(pool)
    batches = (
        (_decode(pool.paths[start : start + BATCH], transform, size, token), start)
        for start in range(0, total, BATCH)
    )
    chunks: list[torch.Tensor] = []
    with without_head(model.to(device)) as backbone:
        for features, start in infer(backbone, batches, device, "off", token):
            chunks.append(features.cpu())
            done = start + len(features)
            sink(Progress(stage="Computing backbone features", done=done, total=total))
    if token.should_stop():
        raise Cancelled
    x = torch.cat(chunks)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_weights(path, {"x": x}, {"key": key})
    return Inputs(x, "features", method)


def _decode(
    paths: list[Path],
    transform: Any,
    size: int,
    token: StopToken,
    sink: EventSink | None = None,
    stage: str = "",
) -> torch.Tensor:
    """The validation preprocessing of ``paths`` (``N x 3 x size x size``); a file that no
    longer decodes is a row of zeros (the quick models then know nothing about it)."""
    rows: list[torch.Tensor] = []
    for i, path in enumerate(paths):
        if i % 32 == 0 and token.should_stop():
            raise Cancelled
        try:
            rows.append(transform(image=load_rgb(path))["image"])
        except ImageError:
            rows.append(torch.zeros(3, size, size))
        if sink is not None and (i % 64 == 63 or i == len(paths) - 1):
            sink(Progress(stage=stage, done=i + 1, total=len(paths)))
    return torch.stack(rows) if rows else torch.zeros(0, 3, size, size)


def fit_predict(
    inputs: Inputs,
    labels: np.ndarray,
    classes: int,
    train: np.ndarray,
    test: np.ndarray,
    quick: QuickSettings,
    token: StopToken,
    sink: EventSink | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Train a quick model on rows ``train`` and return its class probabilities for rows
    ``test`` (``len(test) x classes``)."""
    if token.should_stop():
        raise Cancelled
    if inputs.kind == "features":
        x = inputs.x.numpy()
        return _logistic(x[train], labels[train], x[test], classes, seed)
    x_train, x_test = inputs.x[torch.as_tensor(train)], inputs.x[torch.as_tensor(test)]
    return _small_cnn(x_train, labels[train], x_test, classes, quick, token, sink, seed)


def _logistic(
    x_train: np.ndarray, y: np.ndarray, x_test: np.ndarray, classes: int, seed: int
) -> np.ndarray:
    """Class probabilities of ``x_test`` (one column per class) from a logistic regression
    on standardised features."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    present = np.unique(y)
    out = np.zeros((len(x_test), classes), dtype=np.float64)
    if len(present) == 1:  # one class left in this subset: it is the only answer
        out[:, present[0]] = 1.0
        return out
    model = make_pipeline(
        StandardScaler(), LogisticRegression(C=0.5, max_iter=500, random_state=seed)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x_train, y)
    out[:, model.classes_] = model.predict_proba(x_test)
    return out


@dataclasses.dataclass
class _QuickRun:
    """What :func:`~studio.engine.training.steps.train_epoch` reads from a run."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scaler: Any
    loss_fn: nn.Module
    train_loader: Any
    schedule: Any
    device: torch.device
    amp: tuple[Any, torch.dtype]
    forward: nn.Module | None = None
    world: None = None  # one process (no data-parallel run)
    parallel: None = None


@contextmanager
def _one_thread():
    """Tiny convolutions run faster on one thread than on several that fight over busy
    cores (6x on a loaded 2-core machine); the setting is this thread's and is restored."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _small_cnn(
    x_train: torch.Tensor,
    y: np.ndarray,
    x_test: torch.Tensor,
    classes: int,
    quick: QuickSettings,
    token: StopToken,
    sink: EventSink | None,
    seed: int,
) -> np.ndarray:
    """Class probabilities of ``x_test`` from the small CNN, trained on ``x_train`` by the
    one training epoch and predicting through the one inference loop."""
    from torch.utils.data import TensorDataset

    from studio.engine.data.loaders import make_loader
    from studio.engine.device import pick_device
    from studio.engine.training.optim import Schedule, build_optimizer
    from studio.engine.training.steps import NonFiniteLoss, Stopped, train_epoch

    device = pick_device("auto")
    cfg = TrainConfig(epochs=quick.epochs, learning_rate=3e-3, schedule="cosine", seed=seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = SmallCNN(classes, dropout=0.2, width=quick.width).to(device)
    optimizer = build_optimizer(cfg, [{"params": list(model.parameters())}])
    data = TensorDataset(x_train, torch.as_tensor(y))
    loader = make_loader(data, BATCH, True, 0, device, seed)
    run = _QuickRun(
        model=model,
        optimizer=optimizer,
        scaler=torch.amp.GradScaler("cuda", enabled=False),
        loss_fn=nn.CrossEntropyLoss(),
        train_loader=loader,
        schedule=Schedule(cfg, optimizer, len(loader)),
        device=device,
        amp=(nullcontext(), torch.float32),
    )

    def quiet(event: Event) -> None:  # batches are too fine for progress
        if isinstance(event, BatchEnded) and token.stop_requested:
            raise Cancelled

    with _one_thread() if device.type == "cpu" else nullcontext():
        try:
            for epoch in range(1, quick.epochs + 1):
                train_epoch(run, epoch, token, quiet)
                if sink is not None:
                    sink(Progress(stage="epoch", done=epoch, total=quick.epochs))
        except Stopped:
            raise Cancelled from None
        except NonFiniteLoss:
            raise StudioError("A quick model diverged (NaN loss) on these images.") from None
        batches = ((x_test[start : start + 256], None) for start in range(0, len(x_test), 256))
        probs = [
            torch.softmax(logits, dim=1).cpu().numpy()
            for logits, _ in infer(model, batches, device, "off")
        ]
    return np.concatenate(probs).astype(np.float64) if probs else np.zeros((0, classes))
