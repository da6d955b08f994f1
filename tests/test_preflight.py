"""``studio check``: the pre-flight check passes a healthy pipeline and names the fault of a
broken one (labels shuffled, a label-changing augmentation, a learning rate of 10)."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
from conftest import make_dataset
from PIL import Image

from studio.cli.main import main


def check(capsys, folder: Path, *sets: str) -> dict[str, dict]:
    args = ["check", str(folder), "--json"]
    for pair in sets:
        args += ["--set", pair]
    code = main(args)
    report = json.loads(capsys.readouterr().out)
    assert code == (0 if report["passed"] else 1)
    return {c["name"]: c for c in report["checks"]}


def make_arrows(root: Path, per_class: int = 16) -> Path:
    """Triangles pointing left or right: a mirror image is the other class."""
    rng = np.random.default_rng(0)
    for name in ("left", "right"):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = np.full((32, 32, 3), 30, np.uint8)
            for x in range(4, 28):
                half = (x - 4) // 2 if name == "right" else (27 - x) // 2
                pixels[16 - half : 16 + half + 1, x] = 230
            noise = rng.integers(-20, 20, pixels.shape)
            Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8)).save(
                root / name / f"{name}_{i}.png"
            )
    return root


def test_a_healthy_pipeline_passes(capsys, tmp_path: Path):
    checks = check(capsys, make_dataset(tmp_path / "data", per_class=20))
    assert all(c["passed"] for c in checks.values()), checks


def test_shuffled_labels_are_caught(capsys, tmp_path: Path):
    data = make_dataset(tmp_path / "data", per_class=20)
    files = sorted(data.glob("*/*.png"))
    folders = [f.parent for f in files]
    random.Random(1).shuffle(folders)
    mixed = tmp_path / "mixed"
    for i, (file, folder) in enumerate(zip(files, folders, strict=True)):
        (mixed / folder.name).mkdir(parents=True, exist_ok=True)
        shutil.copy(file, mixed / folder.name / f"{i}.png")
    result = check(capsys, mixed)["shuffled-label control"]
    assert not result["passed"] and "labels probably do not match" in result["fix"]


def test_a_label_changing_augmentation_is_caught(capsys, tmp_path: Path):
    checks = check(
        capsys,
        make_arrows(tmp_path / "arrows"),
        'augment.horizontal_flip={"enabled": true, "p": 1.0}',
    )
    assert not checks["augmentation"]["passed"]
    assert "direction" in checks["augmentation"]["fix"]


def test_a_learning_rate_of_10_is_caught(capsys, tmp_path: Path):
    checks = check(capsys, make_dataset(tmp_path / "data", per_class=20), "train.learning_rate=10")
    assert not checks["lr"]["passed"] and "too high" in checks["lr"]["fix"]
