"""Fast linear probes: with a frozen backbone and no augmentation, every epoch would compute the
same backbone features again. Compute them once, keep them in the run folder (keyed by model,
weights, image size, normalisation and the files' content), and train the head on them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from safetensors.torch import load_file

from studio.engine.control import StopToken
from studio.engine.models.factory import without_head
from studio.engine.models.inference import eval_preprocessing, infer
from studio.engine.runs import files
from studio.engine.runs.checkpoints import save_weights
from studio.engine.training.steps import Stopped


def applies(config) -> bool:
    """Linear probe, feature cache on, and no augmentation that would change the images."""
    return (
        config.model.strategy == "linear"
        and config.train.feature_cache
        and not config.augment.active_steps()
    )


def cache_key(config, mean, std, train_keys: list[str], val_keys: list[str]) -> str:
    weights = config.model.weights
    if Path(weights).is_file():  # a weights file: its content matters, not its name
        weights = hashlib.sha256(Path(weights).read_bytes()).hexdigest()
    blob = json.dumps(
        [
            config.model.name,
            weights,
            config.train.image_size,
            list(mean),
            list(std),
            train_keys,
            val_keys,
        ]
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def features(run, token: StopToken, key: str) -> tuple[dict[str, torch.Tensor], bool]:
    """``train_x``, ``train_y``, ``val_x``, ``val_y`` from the cache, or computed now.
    Returns them and whether the cache was hit."""
    path = run.run_dir / files.feature_cache(key) if run.run_dir is not None else None
    if path is not None and path.is_file():
        return load_file(str(path)), True
    tensors: dict[str, torch.Tensor] = {}
    for part, dataset in (("train", run.train_ds), ("val", run.val_ds)):
        tensors[f"{part}_x"], tensors[f"{part}_y"] = _extract(run, dataset, token)
    if path is not None:
        save_weights(path, tensors, {"key": key})
    return tensors, False


def _extract(run, dataset, token: StopToken) -> tuple[torch.Tensor, torch.Tensor]:
    """Run the frozen backbone once over ``dataset`` with the evaluation preprocessing,
    through the one inference loop."""
    from torch.utils.data import DataLoader

    cfg = run.config
    plain = type(dataset)(
        dataset.paths,
        dataset.labels,
        eval_preprocessing(cfg.model.name, cfg.train.image_size),
    )
    loader = DataLoader(
        plain,
        batch_size=max(run.batch_size, 64),
        num_workers=run.workers,
        pin_memory=run.device.type == "cuda",
        generator=torch.Generator(),  # leave the global RNG untouched
    )
    chunks, labels = [], []
    with without_head(run.model) as backbone:
        precision = cfg.train.mixed_precision
        for features, targets in infer(backbone, loader, run.device, precision, token):
            chunks.append(features.cpu())
            labels.append(targets)
    if token.should_stop():
        raise Stopped
    if not chunks:
        return torch.empty(0, 0), torch.empty(0, dtype=torch.long)
    return torch.cat(chunks), torch.cat(labels)
