"""The torch Dataset and DataLoaders over a :class:`~studio.engine.data.index.DatasetIndex`."""

from __future__ import annotations

import multiprocessing
import random
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import (
    DataLoader,
    Dataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    WeightedRandomSampler,
)

from studio.engine.data.images import ImageError, load_rgb


class ImageDataset(Dataset):
    """Decodes with the one decoder and applies an albumentations pipeline.

    An item is a position, or a ``(position, seed)`` pair (what :class:`SeededSampler`
    draws): the pipeline then draws its random augmentations from ``seed``, so an image's
    augmentation does not depend on which loader process decodes it, nor on what it decoded
    before. A file that fails to decode mid-training (truncated after the scan, deleted) is
    replaced by the next sample instead of crashing the run; ``failed`` records such paths
    in-process.
    """

    def __init__(self, paths: Sequence[Path], labels: Sequence[int], transform: Callable) -> None:
        self.paths = list(paths)
        self.labels = list(labels)
        self.transform = transform
        self.failed: set[Path] = set()

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, item: int | tuple[int, int]) -> tuple[torch.Tensor, int]:
        index, seed = item if isinstance(item, tuple) else (item, None)
        if seed is not None and hasattr(self.transform, "set_random_state"):
            self.transform.set_random_state(np.random.default_rng(seed), random.Random(seed))
        for offset in range(len(self.paths)):
            i = (index + offset) % len(self.paths)
            try:
                image = load_rgb(self.paths[i])
            except ImageError:
                self.failed.add(self.paths[i])
                continue
            return self.transform(image=image)["image"], self.labels[i]
        raise RuntimeError("No image in this dataset can be decoded.")


class SeededSampler(Sampler):
    """Wraps a sampler: yields each position with an augmentation seed, drawn in the main
    process from a generator of its own (seeded from ``seed``), so the order of the files is
    the wrapped sampler's alone. ``drawn`` keeps the last epoch's ``(position, seed)`` pairs,
    in order (what the augmentation preview shows as the first batch)."""

    def __init__(self, sampler: Sampler, seed: int) -> None:
        self.sampler = sampler
        self.generator = torch.Generator().manual_seed((seed * 0x9E3779B1 + 1) % 2**63)
        self.drawn: list[tuple[int, int]] = []

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self):
        positions = list(self.sampler)
        seeds = torch.randint(0, 2**32, (len(positions),), generator=self.generator).tolist()
        self.drawn = list(zip(positions, seeds, strict=True))
        yield from self.drawn


class ShardedSampler(Sampler):
    """One process's share of a data-parallel epoch: every process draws the same order from
    ``sampler`` (seeded alike) and takes every ``size``-th item from ``rank`` on, so the
    processes together see the one-process order, and with one process exactly it.

    ``pad`` repeats the first items so that every process gets as many (training: each
    takes the same number of steps); without it the shares differ by at most one
    (validation, where every image counts once)."""

    def __init__(self, sampler: Sampler, rank: int, size: int, pad: bool) -> None:
        self.sampler, self.rank, self.size, self.pad = sampler, rank, size, pad

    def __len__(self) -> int:
        total = len(self.sampler)
        if self.pad:
            return -(-total // self.size)
        return len(range(self.rank, total, self.size))

    def __iter__(self):
        order = list(self.sampler)
        if self.pad and order:
            short = -len(order) % self.size
            order += (order * (short // len(order) + 1))[:short]
        yield from order[self.rank :: self.size]


def make_loader(
    dataset: ImageDataset,
    batch_size: int,
    shuffle: bool,
    workers: int,
    device: torch.device,
    seed: int,
    sample_weights: list[float] | None = None,
    shard: tuple[int, int] | None = None,
) -> DataLoader:
    """A DataLoader safe to start from a Qt process (workers never fork a running GUI).

    ``sample_weights`` draws training images with these weights (class balancing) instead
    of shuffling them. An :class:`ImageDataset` drawn in random order gets a seed per
    sample (:class:`SeededSampler`). Everything random follows from ``seed``. ``shard``
    (rank, processes) loads one process's share of a data-parallel run
    (:class:`ShardedSampler`; padded when shuffling, i.e. training)."""
    generator = torch.Generator().manual_seed(seed)
    sampler: Sampler | None = None
    if sample_weights is not None:
        sampler = WeightedRandomSampler(sample_weights, len(sample_weights), generator=generator)
    elif shuffle:
        sampler = RandomSampler(dataset, generator=generator)
    if sampler is not None and isinstance(dataset, ImageDataset):
        sampler = SeededSampler(sampler, seed)
    if shard is not None:
        order = SequentialSampler(dataset) if sampler is None else sampler
        sampler = ShardedSampler(order, *shard, pad=sampler is not None)
    extra: dict = {}
    if workers > 0:
        method = "forkserver" if sys.platform.startswith("linux") else "spawn"
        extra = {
            "multiprocessing_context": multiprocessing.get_context(method),
            "persistent_workers": True,
            "prefetch_factor": 4,
        }
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=workers,
        pin_memory=device.type == "cuda",
        generator=generator,
        drop_last=False,
        **extra,
    )
