"""Defaults that fit the data: the window's defaults against a fixed "textbook" configuration.

For each small dataset of real images, train twice: with what Studio derives for the data
(the resolver with the data's facts, as the window and ``studio train`` do) and with a fixed
textbook configuration (64 px, flips on, 10 epochs, lr 1e-3). Reports the best validation
accuracy, the wall time and the coach's alarms (raised, and still standing at the end).

Datasets, all from real images that ship with packages (no download):
- ``digits``: scikit-learn's 1,797 handwritten digits in 10 classes, scaled to 32 px;
- ``sample``: Studio's bundled sample, 901 handwritten digits in 5 classes at 32 px;
- ``mirrored``: the sample digits, class "as written" vs "mirrored" (a flip changes the label);
- ``colours``: the sample digits tinted red or green, classes "red"/"green" (colour-defined);
- ``photos``: 64 px patches of scikit-learn's two sample photographs, one class per photo;
- ``tiny-noisy``: 8 digits a class, a third of the labels shuffled (the coach should alarm).
scikit-learn is not one of Studio's dependencies: ``uv run --with`` adds it for this run.

    uv run --with scikit-learn python benchmarks/defaults_quality.py [--only digits]
        [--skip-textbook]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _digits() -> list[tuple[Path, str]]:
    from studio.resources import sample_dataset

    return [(p, p.parent.name) for p in sorted(sample_dataset().glob("*/*.png"))]


def _sklearn_digits(folder: Path) -> Path:
    from sklearn.datasets import load_digits

    digits = load_digits()
    for i, (pixels, label) in enumerate(zip(digits.images, digits.target, strict=True)):
        image = Image.fromarray((pixels * (255 / 16)).astype(np.uint8))
        (folder / str(label)).mkdir(parents=True, exist_ok=True)
        image.resize((32, 32), Image.Resampling.BILINEAR).save(folder / str(label) / f"{i}.png")
    return folder


def _sklearn_photos(folder: Path, per_class: int = 150, size: int = 64) -> Path:
    from sklearn.datasets import load_sample_images

    rng = np.random.default_rng(0)
    photos = load_sample_images()
    for name, photo in zip(photos.filenames, photos.images, strict=True):
        label = Path(name).stem
        (folder / label).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            y = int(rng.integers(0, photo.shape[0] - size))
            x = int(rng.integers(0, photo.shape[1] - size))
            Image.fromarray(photo[y : y + size, x : x + size]).save(folder / label / f"{i}.png")
    return folder


def build(name: str, root: Path) -> Path:
    """Write dataset ``name`` under ``root`` (class folders) and return it."""
    folder = root / name
    if name == "sample":
        from studio.resources import sample_dataset

        return sample_dataset()
    if name == "digits":
        return _sklearn_digits(folder)
    if name == "photos":
        return _sklearn_photos(folder)
    rng = random.Random(0)
    files = _digits()
    if name == "tiny-noisy":
        by_class: dict[str, list[Path]] = {}
        for path, label in files:
            by_class.setdefault(label, []).append(path)
        chosen = [(p, c) for c, paths in by_class.items() for p in paths[:8]]
        labels = [c for _, c in chosen]
        noisy = rng.sample(range(len(chosen)), len(chosen) // 3)
        shuffled = [labels[i] for i in noisy]
        rng.shuffle(shuffled)
        for i, new in zip(noisy, shuffled, strict=True):
            labels[i] = new
        for i, ((path, _), label) in enumerate(zip(chosen, labels, strict=True)):
            (folder / label).mkdir(parents=True, exist_ok=True)
            Image.open(path).save(folder / label / f"{i}.png")
        return folder
    for i, (path, _) in enumerate(files):
        image = Image.open(path).convert("L")
        if name == "mirrored":
            label = "mirrored" if i % 2 else "as written"
            out = ImageOps.mirror(image) if i % 2 else image
        else:  # colours
            label = "red" if i % 2 else "green"
            tint = (220, 40, 40) if i % 2 else (40, 200, 60)
            out = ImageOps.colorize(image, black=(0, 0, 0), white=tint)
        (folder / label).mkdir(parents=True, exist_ok=True)
        out.save(folder / label / f"{i}.png")
    return folder


def textbook(config):
    config = config.model_copy(deep=True)
    config.train.image_size, config.train.epochs, config.train.learning_rate = 64, 10, 1e-3
    config.train.early_stopping = False
    config.augment.horizontal_flip = config.augment.horizontal_flip.model_copy(
        update={"enabled": True}
    )
    return config


def goal(name: str) -> float:
    """The issue's goal for ``name``: handwritten digits 98.5 %, the others 95 %."""
    return 0.985 if name == "digits" else 0.95


def train(config, target: float) -> dict:
    from studio.engine.training.trainer import fit

    alarms: list[str] = []
    started = time.perf_counter()
    reached: list[tuple[float, int]] = []  # when validation first reached ``target``

    def sink(event) -> None:
        if event.name == "overfitting_detected":
            alarms.append("raised")
        elif event.name == "overfitting_cleared":
            alarms.append("cleared")
        elif event.name == "epoch_ended" and not reached and (event.val_acc or 0) >= target:
            reached.append((time.perf_counter() - started, event.epoch))

    result = fit(config, sink)
    seconds = time.perf_counter() - started
    raised = alarms.count("raised")
    return {
        "acc": result.best_val_acc or 0.0,
        "seconds": seconds,
        "reached": f"{reached[0][0]:.0f} s (epoch {reached[0][1]})" if reached else "never",
        "alarms": raised,
        "standing": raised - alarms.count("cleared"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="a dataset name (repeatable)")
    parser.add_argument("--skip-textbook", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    from studio.config import ProjectConfig
    from studio.engine.data.index import trainable_index
    from studio.engine.machine import detect
    from studio.engine.training.data_facts import data_facts
    from studio.engine.training.resolve import resolve

    np.random.seed(0)
    names = args.only or ["digits", "sample", "mirrored", "colours", "photos", "tiny-noisy"]
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        "| dataset | config | best val acc | wall time | goal reached at | alarms (standing) "
        "| settings |"
    )
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        machine = detect()
        for name in names:
            folder = build(name, Path(tmp))
            base = ProjectConfig.model_validate({"data": {"sources": [folder]}})
            index, _ = trainable_index([folder])
            derived = resolve(base, machine, data_facts(index)).config
            runs = [("Studio defaults", derived)]
            if not args.skip_textbook:
                runs.append(("textbook", textbook(resolve(base, machine).config)))
            for label, config in runs:
                out = train(config, goal(name))
                t = config.train
                flips = "on" if config.augment.horizontal_flip.enabled else "off"
                settings = f"{t.image_size} px, {t.epochs} ep, flips {flips}, bs {t.batch_size}"
                print(
                    f"| {name} | {label} | {out['acc']:.1%} | {out['seconds']:.1f} s | "
                    f"{goal(name):.1%}: {out['reached']} | {out['alarms']} ({out['standing']}) "
                    f"| {settings} |",
                    flush=True,
                )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
