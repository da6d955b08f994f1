"""The one augmentation builder: the preview and the trainer both call it.

albumentations is imported here and nowhere else.
"""

from __future__ import annotations

import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # it asks the package index otherwise

import albumentations as A
import numpy as np
from albumentations.pytorch import ToTensorV2

from studio.config import AugmentConfig

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def augmentations(cfg: AugmentConfig) -> list[A.BasicTransform]:
    """The random part of the training pipeline, as configured."""
    if cfg.preset == "none":
        return []
    steps: list[A.BasicTransform] = []
    if cfg.horizontal_flip:
        steps.append(A.HorizontalFlip(p=0.5))
    steps += [
        A.Affine(
            scale=(0.9, 1.1),
            translate_percent=(-0.06, 0.06),
            rotate=(-10, 10),
            border_mode=0,
            fill=128,
            p=0.7,
        ),
        A.RandomBrightnessContrast(brightness_limit=0.15, contrast_limit=0.15, p=0.5),
    ]
    return steps


def train_transform(
    cfg: AugmentConfig,
    image_size: int,
    mean: tuple[float, ...] = IMAGENET_MEAN,
    std: tuple[float, ...] = IMAGENET_STD,
    seed: int | None = None,
) -> A.Compose:
    """Resize, then the configured augmentations, then normalise to a CHW float tensor."""
    return A.Compose(
        [A.Resize(image_size, image_size), *augmentations(cfg), *_to_tensor(mean, std)],
        seed=seed,
    )


def eval_transform(
    image_size: int,
    mean: tuple[float, ...] = IMAGENET_MEAN,
    std: tuple[float, ...] = IMAGENET_STD,
) -> A.Compose:
    """Validation and prediction: resize and normalise only."""
    return A.Compose([A.Resize(image_size, image_size), *_to_tensor(mean, std)])


def preview(
    image: np.ndarray, cfg: AugmentConfig, image_size: int, count: int, seed: int
) -> list[np.ndarray]:
    """``count`` augmented variants of ``image`` as uint8 RGB, exactly as training draws them."""
    pipeline = A.Compose([A.Resize(image_size, image_size), *augmentations(cfg)], seed=seed)
    return [pipeline(image=image)["image"] for _ in range(count)]


def _to_tensor(mean: tuple[float, ...], std: tuple[float, ...]) -> list[A.BasicTransform]:
    return [A.Normalize(mean=mean, std=std, max_pixel_value=255.0), ToTensorV2()]
