"""The torch Dataset and DataLoaders over a :class:`~studio.engine.data.index.DatasetIndex`."""

from __future__ import annotations

import multiprocessing
import random
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, WeightedRandomSampler

from studio.engine.data.images import ImageError, load_rgb


class ImageDataset(Dataset):
    """Decodes with the one decoder and applies an albumentations pipeline.

    A file that fails to decode mid-training (truncated after the scan, deleted) is replaced
    by the next sample instead of crashing the run; ``failed`` records such paths in-process.
    """

    def __init__(self, paths: Sequence[Path], labels: Sequence[int], transform: Callable) -> None:
        self.paths = list(paths)
        self.labels = list(labels)
        self.transform = transform
        self.failed: set[Path] = set()

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        for offset in range(len(self.paths)):
            i = (index + offset) % len(self.paths)
            try:
                image = load_rgb(self.paths[i])
            except ImageError:
                self.failed.add(self.paths[i])
                continue
            return self.transform(image=image)["image"], self.labels[i]
        raise RuntimeError("No image in this dataset can be decoded.")


def _seed_worker(worker_id: int) -> None:
    """Each loader process draws its own augmentations, reproducibly: a seeded pipeline
    copied into every worker would otherwise repeat the same random draws in each."""
    info = torch.utils.data.get_worker_info()
    transform = getattr(info.dataset, "transform", None) if info is not None else None
    if hasattr(transform, "set_random_state"):  # an albumentations pipeline
        seed = torch.initial_seed() % 2**32
        transform.set_random_state(np.random.default_rng(seed), random.Random(seed))


def make_loader(
    dataset: ImageDataset,
    batch_size: int,
    shuffle: bool,
    workers: int,
    device: torch.device,
    seed: int,
    sample_weights: list[float] | None = None,
) -> DataLoader:
    """A DataLoader safe to start from a Qt process (workers never fork a running GUI).

    ``sample_weights`` draws training images with these weights (class balancing) instead
    of shuffling them."""
    generator = torch.Generator().manual_seed(seed)
    sampler = None
    if sample_weights is not None:
        sampler = WeightedRandomSampler(sample_weights, len(sample_weights), generator=generator)
        shuffle = False
    extra: dict = {}
    if workers > 0:
        method = "forkserver" if sys.platform.startswith("linux") else "spawn"
        extra = {
            "multiprocessing_context": multiprocessing.get_context(method),
            "persistent_workers": True,
            "prefetch_factor": 4,
            "worker_init_fn": _seed_worker,
        }
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        sampler=sampler,
        num_workers=workers,
        pin_memory=device.type == "cuda",
        generator=generator,
        drop_last=False,
        **extra,
    )
