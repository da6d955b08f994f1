"""The augmentation pipeline: config, the one builder, preview == training, warnings, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from pydantic import ValidationError

from studio.config import AugmentConfig, ProjectConfig
from studio.config.augment import PRESETS, STEP_TYPES
from studio.config.errors import explain
from studio.engine.augment import pipeline as augment
from studio.engine.augment.advice import augmentation_warnings
from studio.engine.augment.preview import ClassColour, render_preview
from studio.engine.data.images import load_rgb
from studio.engine.data.loaders import ImageDataset
from studio.errors import StudioError

ALL_ON = {name: {"enabled": True, "p": 1.0} for name in STEP_TYPES}


def only(step: str, **values) -> AugmentConfig:
    return AugmentConfig(preset="none", **{step: {"enabled": True, "p": 1.0, **values}})


# -- config -----------------------------------------------------------------------------
@pytest.mark.parametrize("preset", [*PRESETS, "custom"])
def test_config_round_trips_through_json(preset):
    cfg = AugmentConfig(preset=preset) if preset != "custom" else AugmentConfig(**ALL_ON)
    again = AugmentConfig.model_validate_json(cfg.model_dump_json())
    assert again == cfg and again.preset == cfg.preset
    project = ProjectConfig(augment=cfg)
    assert ProjectConfig.model_validate(json.loads(project.model_dump_json())) == project


def test_presets_and_partial_files():
    assert AugmentConfig().preset == "light"
    assert AugmentConfig(preset="none").active_steps() == []
    docs = dict(AugmentConfig(preset="documents").active_steps())
    assert "horizontal_flip" not in docs and "vertical_flip" not in docs
    assert docs["rotate"].degrees <= 10
    heavy = len(AugmentConfig(preset="heavy").active_steps())
    assert len(AugmentConfig(preset="light").active_steps()) < heavy
    edited = AugmentConfig(preset="medium", rotate={"degrees": 5})
    assert edited.preset == "custom" and edited.rotate.degrees == 5 and edited.rotate.enabled
    assert edited.zoom == AugmentConfig(preset="medium").zoom  # the rest from the preset


def test_legacy_horizontal_flip_bool_still_loads():
    assert not AugmentConfig(horizontal_flip=False).horizontal_flip.enabled
    assert AugmentConfig(preset="none", horizontal_flip=True).active_steps() == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rotate": {"degrees": 400}}, "augment.rotate.degrees: must be between 0 and 180"),
        ({"zoom": {"min_area": 0}}, "augment.zoom.min_area: must be between 0.05 and 1"),
        ({"cutout": {"p": 1.5}}, "augment.cutout.p: must be between 0 and 1"),
        ({"preset": "wild"}, "augment.preset: Input should be"),
        ({"rotat": {}}, "augment.rotat: unknown setting (known: preset,"),
    ],
)
def test_invalid_values_name_the_field_and_range(data, message):
    with pytest.raises(ValidationError) as caught:
        ProjectConfig.model_validate({"augment": data})
    text = explain(caught.value, ProjectConfig)
    assert text.startswith(message) and "\n" not in text


def test_cli_accepts_preset_or_file(tmp_path: Path):
    from studio.cli.train import augment_settings

    assert augment_settings("heavy") == {"preset": "heavy"}
    toml = tmp_path / "aug.toml"
    toml.write_text('preset = "documents"\n[rotate]\ndegrees = 3\n')
    cfg = AugmentConfig.model_validate(augment_settings(str(toml), no_flip=True))
    assert cfg.rotate.degrees == 3 and not cfg.horizontal_flip.enabled
    saved = tmp_path / "config.json"
    saved.write_text(ProjectConfig(augment=AugmentConfig(preset="heavy")).model_dump_json())
    assert AugmentConfig.model_validate(augment_settings(str(saved))).preset == "heavy"
    bad = tmp_path / "bad.json"
    bad.write_text('{"rotate": {"degrees": -1}}')
    with pytest.raises(StudioError, match=r"rotate\.degrees: must be between 0 and 180"):
        augment_settings(str(bad))
    with pytest.raises(StudioError, match="neither a preset"):
        augment_settings(str(tmp_path / "missing.json"))


# -- the one builder ----------------------------------------------------------------------
def _images(tmp_path: Path) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    grey_file = tmp_path / "grey.png"
    Image.fromarray(rgb[..., 0]).save(grey_file)
    return {
        "rgb": rgb,
        "grey_converted": load_rgb(grey_file),
        "grey_2d": rgb[..., 1],
        "odd_sized": rng.integers(0, 256, (7, 13, 3), dtype=np.uint8),
    }


@pytest.mark.parametrize("step", list(STEP_TYPES))
def test_every_augmentation_renders(step, tmp_path: Path):
    cfg = only(step)
    for kind, image in _images(tmp_path).items():
        (out, text), *_ = augment.preview_with_params(image, cfg, 33, 1, seed=0)
        assert out.shape == (33, 33, 3) and out.dtype == np.uint8, (step, kind)
        assert "No augmentation" not in text, (step, kind)
        tensor = augment.train_transform(cfg, 33, seed=0)(image=augment._as_rgb(image))["image"]
        assert tensor.shape == (3, 33, 33) and tensor.dtype == torch.float32


def test_preview_equals_training_output(tmp_path: Path):
    """The Dataset's transform and the preview, same image and seed: identical tensors."""
    path = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(2).integers(0, 256, (40, 56, 3), np.uint8)).save(path)
    cfg = AugmentConfig(**ALL_ON | {name: {"p": 0.5} for name in ("rotate", "zoom", "noise")})
    dataset = ImageDataset([path] * 6, [0] * 6, augment.train_transform(cfg, 32, seed=7))
    grid = render_preview(path, cfg, 32, count=6, seed=7)
    for i in range(6):
        trained, _ = dataset[i]
        assert torch.equal(trained, augment.to_tensor(grid.tiles[i + 1].image)), i


def test_steps_fire_independently_and_seed_repeats():
    image = np.random.default_rng(3).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    cfg = AugmentConfig(
        preset="none", horizontal_flip={"enabled": True}, grayscale={"enabled": True}
    )
    texts = [t for _, t in augment.preview_with_params(image, cfg, 32, 24, seed=0)]
    combos = {("Horizontal flip" in t, "Grayscale" in t) for t in texts}
    assert len(combos) == 4  # flip alone, grey alone, both, neither
    again = augment.preview(image, cfg, 32, 24, seed=0)
    assert all(
        np.array_equal(a, b)
        for a, b in zip(again, augment.preview(image, cfg, 32, 24, 0), strict=True)
    )


def test_unreadable_image_gives_error_tiles(tmp_path: Path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    grid = render_preview(broken, AugmentConfig(), 32, count=4, seed=0)
    assert "Cannot read broken.png" in grid.error
    assert len(grid.tiles) == 5 and all(t.image is None for t in grid.tiles)


def test_training_batch_is_the_trainers_first_batch_denormalised(dataset: Path):
    from studio.engine.data.splits import split_dataset
    from studio.engine.training.batch_preview import training_batch
    from studio.engine.training.trainer import _prepare

    config = ProjectConfig()
    config.data.sources = [dataset]
    config.train.batch_size = 8
    config.train.image_size = 24
    config.train.class_weighting = "sampler"
    config.augment = AugmentConfig.from_preset("heavy")
    grid, batch = training_batch(config, split_dataset(config.data, config.train.seed))
    assert len(grid.tiles) == 8 and not grid.error
    assert all(t.image.shape == (24, 24, 3) and t.image.dtype == np.uint8 for t in grid.tiles)
    assert [t.caption.split(" · ")[0] for t in grid.tiles] == [
        batch.classes[int(t)] for t in batch.targets
    ]
    run = _prepare(config, lambda e: None, None)
    images, targets = next(iter(run.train_loader))
    assert torch.equal(images, batch.images) and torch.equal(targets, batch.targets)
    drawn = run.train_loader.sampler.drawn[:8]
    assert [run.train_ds.paths[i] for i, _ in drawn] == batch.paths
    rgb = np.random.default_rng(4).integers(0, 256, (24, 24, 3), dtype=np.uint8)
    back = augment.denormalize(augment.to_tensor(rgb)[None])[0]
    assert np.abs(back.astype(int) - rgb).max() <= 1


def test_a_samples_augmentation_comes_from_its_own_seed(dataset: Path):
    """What a loader process decoded before does not change a sample's pixels."""
    paths = sorted((dataset / "cats").iterdir())[:4]
    cfg = AugmentConfig.from_preset("heavy")
    fresh = ImageDataset(paths, [0] * 4, augment.train_transform(cfg, 24, seed=0))
    used = ImageDataset(paths, [0] * 4, augment.train_transform(cfg, 24, seed=0))
    for i in range(4):
        used[(i, i)]
    assert torch.equal(fresh[(2, 99)][0], used[(2, 99)][0])
    assert not torch.equal(fresh[(2, 99)][0], fresh[(2, 98)][0])


# -- warnings -----------------------------------------------------------------------------
def test_warnings_for_digits_colours_and_zoom():
    digits = ["zero", "one", "two", "three", "four"]
    steps = {a.step for a in augmentation_warnings(AugmentConfig(preset="heavy"), digits)}
    assert {"horizontal_flip", "rotate"} <= steps
    assert augmentation_warnings(AugmentConfig(preset="documents"), digits) == []
    flipped = augmentation_warnings(only("vertical_flip"), ["6", "9"])
    assert "6 becomes 9" in flipped[0].text
    colours = {
        "cats": ClassColour(0.0, 0.8, 0.1),
        "dogs": ClassColour(120.0, 0.8, 0.1),
    }
    steps = {
        a.step
        for a in augmentation_warnings(AugmentConfig(preset="heavy"), ["cats", "dogs"], colours)
    }
    assert steps == {"grayscale"}
    hue = augmentation_warnings(only("hue_saturation", hue_degrees=40), ["cats", "dogs"], colours)
    assert hue[0].step == "hue_saturation"
    assert augmentation_warnings(only("grayscale"), ["ripe", "unripe"])[0].step == "grayscale"
    zoom = augmentation_warnings(only("zoom", min_area=0.1), ["cats", "dogs"])
    assert zoom[0].step == "zoom" and "cut the object away" in zoom[0].text
    assert augmentation_warnings(AugmentConfig(preset="medium"), ["cats", "dogs"]) == []


def test_cli_bad_augment_file_exits_2_with_one_line(tmp_path: Path, dataset: Path, capsys):
    from studio.cli.main import main

    bad = tmp_path / "bad.json"
    bad.write_text('{"zoom": {"min_area": 2}}')
    assert main(["train", "--data", str(dataset), "--augment", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"studio: error: {bad}: zoom.min_area: must be between 0.05 and 1 (got 2)"
