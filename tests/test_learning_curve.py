"""Will more data help? Learning curves on a constructed set, and the verdict rules."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from studio.cli.main import main
from studio.config import ProjectConfig
from studio.engine.results.learning_curve import judge, learning_curve
from studio.engine.results.quick_models import QuickSettings


def constructed(root: Path) -> Path:
    """Given train/val splits: two one-colour classes with 40 training images each, and a
    class of every colour with only 4, which few examples cannot cover; every class has 12
    validation images."""
    rng = np.random.default_rng(0)
    classes = {"red": ((200, 40, 40), 40), "green": ((40, 200, 40), 40), "rare": (None, 4)}
    for name, (colour, train) in classes.items():
        for split, count in (("train", train), ("val", 12)):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                mean = rng.integers(0, 255, size=3) if colour is None else np.array(colour)
                noise = rng.integers(-30, 30, size=(16, 16, 3))
                pixels = np.clip(mean + noise, 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(folder / f"{name}_{i:02d}.png")
    return root


def test_a_class_with_few_images_is_data_limited(tmp_path: Path):
    config = ProjectConfig()
    config.data.sources = [constructed(tmp_path / "data")]
    curve = learning_curve(config, quick=QuickSettings(image_size=16, epochs=4))
    by_name = {c.name: c for c in curve.classes}
    rare = by_name["rare"]
    assert rare.train_images == [1, 2, 3, 4] and rare.val_images == 12
    assert rare.verdict == "data-limited" and rare.more_images >= 26
    assert rare.text.startswith("data-limited: about ")
    assert by_name["red"].train_images == [10, 20, 30, 40]
    assert curve.train_images[-1] == 84 and len(curve.overall) == 4
    assert "rare" in curve.summary()
    saved = json.loads(json.dumps(curve.to_dict()))  # what --json prints
    assert saved["fractions"] == [0.25, 0.5, 0.75, 1.0]
    assert {c["name"] for c in saved["classes"]} == {"red", "green", "rare"}


def test_verdict_rules():
    rising = judge("cats", [50, 100, 150, 200], [0.60, 0.70, 0.76, 0.80], 40)
    assert rising.verdict == "data-limited"
    assert rising.gain_per_doubling > 0.09 and rising.more_images > 0
    assert "points per doubling" in rising.text
    flat = judge("dogs", [50, 100, 150, 200], [0.90, 0.905, 0.90, 0.91], 40)
    assert flat.verdict == "saturated" and flat.more_images is None
    perfect = judge("birds", [50, 100, 150, 200], [0.97, 0.99, 1.0, 1.0], 40)
    assert perfect.verdict == "saturated"
    unknown = judge("owls", [50, 100, 150, 200], [0.5, 0.6, 0.7, 0.8], 2)
    assert unknown.verdict == "unknown"
    stuck = judge("ants", [80, 160, 240, 320], [0.62, 0.61, 0.63, 0.62], 40)
    assert stuck.verdict == "saturated" and "check its labels" in stuck.text


def test_evaluate_learning_curve_command(tmp_path: Path, capsys):
    from studio.engine.training.trainer import fit

    config = ProjectConfig()
    config.data.sources = [constructed(tmp_path / "data")]
    config.train.epochs, config.train.image_size = 1, 16
    config.train.device, config.train.num_workers = "cpu", 0
    fit(config, lambda event: None, run_dir=tmp_path / "run")
    assert main(["evaluate", str(tmp_path / "run"), "--learning-curve"]) == 0
    text = capsys.readouterr().out
    assert "Learning curves (the small CNN retrained on 16 px images" in text
    assert "rare" in text and "data-limited" in text
