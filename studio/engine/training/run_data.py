"""What a run trains and validates on, built once from the config and the split: the trainer
and the augmentation preview's training batch both build it here, so the batch a user
inspects is the batch that trains."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from studio.config import ProjectConfig
from studio.engine.augment import pipeline as augment
from studio.engine.data.loaders import ImageDataset, make_loader
from studio.engine.data.splits import DataSplit
from studio.engine.models.inference import eval_preprocessing, model_normalisation


@dataclasses.dataclass
class TrainingData:
    """The training and validation datasets of a run, with how to draw the training one."""

    classes: list[str]
    train: ImageDataset  # resized, augmented, normalised with the model's mean/std
    val: ImageDataset  # the one evaluation preprocessing
    class_weights: list[float]  # inverse class frequency in the training split
    sampler_weights: list[float] | None  # per training image, for class_weighting "sampler"
    mean: tuple[float, ...]
    std: tuple[float, ...]
    keys: tuple[list[str], list[str]]  # content keys of the training and validation files


def training_data(config: ProjectConfig, split: DataSplit) -> TrainingData:
    """The datasets ``config`` trains on, from ``split`` (see :func:`split_dataset`)."""
    cfg = config.train
    index = split.index
    train_rows, val_rows = split.rows("train"), split.rows("val")
    mean, std = model_normalisation(config.model.name)
    train_labels = [index.labels[i] for i in train_rows]
    class_weights = inverse_frequency(train_labels, len(index.classes))
    return TrainingData(
        classes=list(index.classes),
        train=ImageDataset(
            [index.paths[i] for i in train_rows],
            train_labels,
            augment.train_transform(config.augment, cfg.image_size, mean, std, seed=cfg.seed),
        ),
        val=ImageDataset(
            [index.paths[i] for i in val_rows],
            [index.labels[i] for i in val_rows],
            eval_preprocessing(config.model.name, cfg.image_size),
        ),
        class_weights=class_weights,
        sampler_weights=(
            [class_weights[y] for y in train_labels] if cfg.class_weighting == "sampler" else None
        ),
        mean=mean,
        std=std,
        keys=([split.keys[i] for i in train_rows], [split.keys[i] for i in val_rows]),
    )


def train_loader(
    dataset: Dataset,
    sampler_weights: list[float] | None,
    batch_size: int,
    workers: int,
    device: torch.device,
    seed: int,
    shard: tuple[int, int] | None = None,
) -> DataLoader:
    """The training loader: shuffled (or drawn with ``sampler_weights``), seeded with ``seed``;
    ``shard`` (rank, processes) takes one data-parallel process's share."""
    return make_loader(dataset, batch_size, True, workers, device, seed, sampler_weights, shard)


def inverse_frequency(labels: list[int], classes: int) -> list[float]:
    """Per-class weights that make every class count as much (0 for a class absent)."""
    counts = np.bincount(np.asarray(labels, dtype=int), minlength=classes).astype(float)
    weights = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / classes, 0.0)
    return weights.tolist()
