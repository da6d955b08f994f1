"""The one decoder handles the files users really have."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.engine.data.images import ImageError, load_rgb, probe


def test_exif_orientation_is_applied(tmp_path: Path):
    pixels = np.zeros((10, 20, 3), np.uint8)
    pixels[:, :10] = 255  # left half white
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = 6  # the camera was rotated: display turned 90° clockwise
    image.save(tmp_path / "phone.jpg", exif=exif, quality=95)
    rgb = load_rgb(tmp_path / "phone.jpg")
    assert rgb.shape == (20, 10, 3)
    assert rgb[:5].mean() > 200 and rgb[-5:].mean() < 50  # white half now on top


def test_sixteen_bit_is_scaled_not_clipped(tmp_path: Path):
    ramp = np.linspace(0, 65535, 64, dtype=np.uint16).reshape(8, 8)
    Image.fromarray(ramp).save(tmp_path / "deep.png")
    rgb = load_rgb(tmp_path / "deep.png")
    assert rgb.dtype == np.uint8 and rgb.shape == (8, 8, 3)
    assert rgb.min() == 0 and rgb.max() == 255
    assert len(np.unique(rgb[..., 0])) > 50  # a ramp, not a clipped block of white


def test_alpha_is_composited_on_neutral_grey(tmp_path: Path):
    rgba = np.zeros((4, 4, 4), np.uint8)  # fully transparent black
    Image.fromarray(rgba, "RGBA").save(tmp_path / "clear.png")
    assert (load_rgb(tmp_path / "clear.png") == 128).all()


@pytest.mark.parametrize("mode", ["CMYK", "P", "L", "1", "LA"])
def test_other_modes_become_rgb(tmp_path: Path, mode: str):
    path = tmp_path / f"image.{'tif' if mode == 'CMYK' else 'png'}"
    Image.new("RGB", (6, 5), (10, 120, 240)).convert(mode).save(path)
    rgb = load_rgb(path)
    assert rgb.shape == (5, 6, 3) and rgb.dtype == np.uint8


def test_truncated_file_is_detected(tmp_path: Path):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(tmp_path / "a.jpg")
    data = (tmp_path / "a.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError) as info:
        load_rgb(tmp_path / "cut.jpg")
    assert info.value.reason == "truncated"


def test_decompression_bomb_is_refused(tmp_path: Path):
    Image.new("L", (300, 300)).save(tmp_path / "big.png")
    with pytest.raises(ImageError) as info:
        load_rgb(tmp_path / "big.png", max_pixels=10_000)
    assert info.value.reason == "decompression_bomb"


def test_empty_and_non_images_have_reasons(tmp_path: Path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "notes.png").write_text("not really a picture")
    assert probe(tmp_path / "empty.jpg").reason == "empty"
    assert probe(tmp_path / "notes.png").reason == "not_an_image"
    with pytest.raises(ImageError):
        load_rgb(tmp_path / "notes.png")
