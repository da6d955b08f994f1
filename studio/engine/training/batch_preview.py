"""The augmentation panel's "Training batch": the trainer's first batch, file for file and pixel
for pixel. It is built by the trainer's own functions (the one split, :func:`training_data`,
:func:`train_loader`), so exclusions, renames, the class-weighted sampler, the seed and the
model's normalisation all apply; only the display de-normalises."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from studio.config import ProjectConfig
from studio.engine.augment import pipeline as augment
from studio.engine.augment.preview import PreviewGrid, Tile
from studio.engine.data.splits import DataSplit
from studio.engine.training.run_data import train_loader, training_data


@dataclasses.dataclass
class FirstBatch:
    """The first batch a run trains on: its files in order, and the loader's tensors."""

    paths: list[Path]
    images: torch.Tensor  # N x 3 x S x S, normalised with the model's mean/std
    targets: torch.Tensor
    classes: list[str]
    mean: tuple[float, ...]
    std: tuple[float, ...]


def first_batch(config: ProjectConfig, split: DataSplit) -> FirstBatch | None:
    """The first batch the trainer's loader yields for ``config`` and ``split`` (``None``
    without training images). Loader processes change nothing: each sample's augmentation
    comes from its own seed, so this decodes in-process."""
    data = training_data(config, split)
    if not len(data.train):
        return None
    cfg = config.train
    loader = train_loader(
        data.train, data.sampler_weights, cfg.batch_size, 0, torch.device("cpu"), cfg.seed
    )
    images, targets = next(iter(loader))
    drawn = loader.sampler.drawn[: len(targets)]
    paths = [data.train.paths[i] for i, _seed in drawn]
    return FirstBatch(paths, images, targets, data.classes, data.mean, data.std)


def training_batch(
    config: ProjectConfig, split: DataSplit
) -> tuple[PreviewGrid, FirstBatch | None]:
    """The first training batch for display (de-normalised with the model's mean/std),
    captioned with each image's class and file, and the batch itself."""
    try:
        batch = first_batch(config, split)
    except RuntimeError as exc:  # no image of the training split decodes
        return PreviewGrid([], error=str(exc)), None
    if batch is None:
        return PreviewGrid([], error="No training images: add images first."), None
    n = len(batch.targets)
    tiles = [
        Tile(rgb, f"{batch.classes[int(t)]} · {path.name} (batch item {i + 1} of {n})")
        for i, (rgb, t, path) in enumerate(
            zip(
                augment.denormalize(batch.images, batch.mean, batch.std),
                batch.targets,
                batch.paths,
                strict=True,
            )
        )
    ]
    return PreviewGrid(tiles), batch
