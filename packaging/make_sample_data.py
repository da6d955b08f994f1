"""Regenerate the built-in sample dataset (``resources/sample_data/digits``).

The images are real: the UCI handwritten digits that scikit-learn ships (8x8 scans,
17 grey levels), upscaled to 32x32 dark ink on white paper, one folder per class.
Run it from the repository root; scikit-learn is needed only here, not by Studio::

    uv run --with scikit-learn python packaging/make_sample_data.py
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

CLASSES = {0: "zero", 1: "one", 2: "two", 3: "three", 4: "four"}
OUT = Path(__file__).resolve().parent.parent / "resources" / "sample_data" / "digits"
SIZE = 32


def main() -> None:
    digits = load_digits()
    if OUT.exists():
        shutil.rmtree(OUT)
    counts: dict[str, int] = {}
    for image, target in zip(digits.images, digits.target, strict=True):
        name = CLASSES.get(int(target))
        if name is None:
            continue
        folder = OUT / name
        folder.mkdir(parents=True, exist_ok=True)
        index = counts.get(name, 0)
        counts[name] = index + 1
        paper = (255 - image * (255 / 16)).clip(0, 255).astype(np.uint8)
        Image.fromarray(paper, mode="L").resize((SIZE, SIZE), Image.Resampling.BICUBIC).save(
            folder / f"{name}_{index:03d}.png", optimize=True
        )
    print({k: v for k, v in sorted(counts.items())})


if __name__ == "__main__":
    main()
