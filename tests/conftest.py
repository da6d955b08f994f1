"""Shared fixtures: offscreen Qt, private folders, and tiny generated image datasets."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["NO_ALBUMENTATIONS_UPDATE"] = "1"

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

COLOURS = {"cats": (200, 40, 40), "dogs": (40, 200, 40), "birds": (40, 40, 200)}


@pytest.fixture(autouse=True)
def private_homes(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Runs and weight caches go to temporary folders, never the user's."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("STUDIO_HOME", str(home / "studio"))
    monkeypatch.setenv("TORCH_HOME", str(home / "torch"))
    return home


def make_dataset(root: Path, per_class: int = 12, size: int = 32, classes=COLOURS) -> Path:
    """A root of class folders; each class has its own colour plus noise, so it is learnable."""
    rng = np.random.default_rng(0)
    for name, colour in classes.items():
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            noise = rng.integers(-40, 40, size=(size, size, 3))
            pixels = np.clip(np.array(colour) + noise, 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{name}_{i:02d}.png")
    return root


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """A 3-class 32x32 dataset of 12 images per class."""
    return make_dataset(tmp_path / "data")
