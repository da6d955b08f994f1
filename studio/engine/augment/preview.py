"""Plain functions behind the augmentation preview: variants and class colours (the real
training batch is :mod:`studio.engine.training.batch_preview`, built by the trainer's code).

They run on worker threads and never raise for a bad image: the result says what failed.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from studio.config import AugmentConfig
from studio.engine.data.images import ImageError, load_rgb


@dataclasses.dataclass
class Tile:
    """One preview square: an image (``None`` if it failed) and its hover text."""

    image: np.ndarray | None
    caption: str


@dataclasses.dataclass
class PreviewGrid:
    """The original (resized) first, then the variants; ``error`` when the image failed."""

    tiles: list[Tile]
    error: str = ""


def render_preview(
    path: str | Path, cfg: AugmentConfig, image_size: int, count: int, seed: int
) -> PreviewGrid:
    """The original and ``count`` variants as training draws them with ``seed``."""
    from studio.engine.augment import pipeline as augment  # albumentations: seconds to load

    try:
        image = _cached_rgb(str(path), Path(path).stat().st_mtime_ns)
    except (ImageError, OSError) as exc:
        text = exc.detail if isinstance(exc, ImageError) else str(exc)
        message = f"Cannot read {Path(path).name}: {text}"
        return PreviewGrid([Tile(None, message)] * (count + 1), error=message)
    original = Tile(augment.resized(image, image_size), f"Original, resized to {image_size} px")
    variants = augment.preview_with_params(image, cfg, image_size, count, seed)
    return PreviewGrid([original, *(Tile(rgb, text) for rgb, text in variants)])


@functools.lru_cache(maxsize=8)
def _cached_rgb(path: str, mtime_ns: int) -> np.ndarray:
    """Decode once per file version: rerolls and edits re-render without re-decoding."""
    image = load_rgb(path)
    image.setflags(write=False)
    return image


@dataclasses.dataclass(frozen=True)
class ClassColour:
    """A class's average look: hue in degrees, saturation and ink share (0..1)."""

    hue: float
    saturation: float
    ink: float  # share of near-black or near-white pixels: high for scans, text, digits


def class_colours(
    paths: Sequence[Path], labels: Sequence[int], classes: Sequence[str], per_class: int = 4
) -> dict[str, ClassColour]:
    """Average colour of a few images per class (unreadable ones are skipped)."""
    from PIL import Image

    out: dict[str, ClassColour] = {}
    for label, name in enumerate(classes):
        chosen = [p for p, lab in zip(paths, labels, strict=True) if lab == label][:per_class]
        sin = cos = sat = ink = 0.0
        used = 0
        for path in chosen:
            try:
                image = Image.fromarray(load_rgb(path))
            except ImageError:
                continue
            image.thumbnail((64, 64))
            hsv = np.asarray(image.convert("HSV"), dtype=np.float64) / 255.0
            angle = hsv[..., 0] * 2 * math.pi
            sin += float((hsv[..., 1] * np.sin(angle)).mean())
            cos += float((hsv[..., 1] * np.cos(angle)).mean())
            sat += float(hsv[..., 1].mean())
            grey = np.asarray(image.convert("L"), dtype=np.float64)
            ink += float(((grey < 60) | (grey > 195)).mean())
            used += 1
        if used:
            hue = math.degrees(math.atan2(sin, cos)) % 360
            out[name] = ClassColour(hue, sat / used, ink / used)
    return out
