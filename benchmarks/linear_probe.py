"""Linear-probe epoch time with the feature cache vs without, on the same data, in one run.

ResNet-18 (with a random "pre-trained" weights file: the speed does not depend on the values)
on the built-in sample digits at 64 px, augmentation off, 4 epochs each way.

    uv run python benchmarks/linear_probe.py [--image-size 64] [--epochs 4]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from studio.config import AugmentConfig, ProjectConfig
from studio.engine.events import EpochEnded
from studio.engine.models.factory import create_model
from studio.engine.training.trainer import fit
from studio.resources import sample_dataset


def epoch_times(weights: Path, cache: bool, args, run_dir: Path) -> list[float]:
    cfg = ProjectConfig()
    cfg.data.sources = [sample_dataset()]
    cfg.augment = AugmentConfig.from_preset("none")
    cfg.model.name, cfg.model.weights, cfg.model.strategy = "resnet18", str(weights), "linear"
    cfg.train.epochs, cfg.train.image_size = args.epochs, args.image_size
    cfg.train.feature_cache = cache
    times: list[float] = []
    start = time.perf_counter()
    fit(
        cfg,
        lambda e: times.append(e.seconds) if isinstance(e, EpochEnded) else None,
        run_dir=run_dir,
    )
    times.append(time.perf_counter() - start)  # the whole run, feature extraction included
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        weights = Path(tmp) / "resnet18.pth"
        torch.save(create_model("resnet18", 1000).state_dict(), weights)
        full = epoch_times(weights, False, args, Path(tmp) / "full")
        cached = epoch_times(weights, True, args, Path(tmp) / "cached")
    (*full, full_total), (*cached, cached_total) = full, cached
    later_full, later_cached = statistics.median(full[1:]), statistics.median(cached[1:])
    print(f"ResNet-18 linear probe, sample digits, {args.image_size} px, no augmentation")
    print(
        f"  without cache: epochs {', '.join(f'{t:.2f}' for t in full)} s; "
        f"whole run {full_total:.1f} s"
    )
    print(
        f"  with cache:    epochs {', '.join(f'{t:.3f}' for t in cached)} s; "
        f"whole run {cached_total:.1f} s (one backbone pass to extract included)"
    )
    print(f"  per epoch after the first: {later_full / later_cached:.0f}x faster")


if __name__ == "__main__":
    main()
