"""The one augmentation builder: the preview and the trainer both call it.

albumentations is imported here and nowhere else. :func:`build` turns an
:class:`~studio.config.AugmentConfig` into a pipeline: resize to the training size, the
configured random steps, then (for training) normalise to a CHW float tensor. The preview
draws from the very same pipeline without the last step, so what it shows is what training
gets; :func:`to_tensor` applies that last step to a preview image.
"""

from __future__ import annotations

import math
import os
import random
from typing import Any

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # it asks the package index otherwise

import albumentations as A
import numpy as np
from albumentations.pytorch import ToTensorV2

from studio.config import AugmentConfig

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
FILL = 128  # grey for borders and cutout holes


def step_transform(name: str, step: Any, image_size: int) -> A.BasicTransform:
    """The albumentations transform for one configured step (``name`` as in the config)."""
    p = step.p
    if name == "horizontal_flip":
        return A.HorizontalFlip(p=p)
    if name == "vertical_flip":
        return A.VerticalFlip(p=p)
    if name == "rotate":
        return A.Rotate(limit=step.degrees, border_mode=0, fill=FILL, p=p)
    if name == "zoom":
        return A.RandomResizedCrop(
            size=(image_size, image_size),
            scale=(step.min_area, 1.0),
            ratio=(1 / step.max_aspect, step.max_aspect),
            p=p,
        )
    if name == "shift":
        return A.Affine(
            translate_percent=(-step.fraction, step.fraction), border_mode=0, fill=FILL, p=p
        )
    if name == "brightness_contrast":
        return A.RandomBrightnessContrast(
            brightness_limit=step.brightness, contrast_limit=step.contrast, p=p
        )
    if name == "hue_saturation":
        return A.HueSaturationValue(
            hue_shift_limit=step.hue_degrees / 2,  # OpenCV hue: 180 units = full circle
            sat_shift_limit=step.saturation * 255,
            val_shift_limit=0,
            p=p,
        )
    if name == "blur":
        return A.GaussianBlur(blur_limit=0, sigma_limit=(0.1, step.max_sigma), p=p)
    if name == "noise":
        return A.GaussNoise(std_range=(0.0, step.std), p=p)
    if name == "cutout":
        return A.CoarseDropout(
            num_holes_range=(1, step.holes),
            hole_height_range=(step.size / 2, step.size),
            hole_width_range=(step.size / 2, step.size),
            fill=FILL,
            p=p,
        )
    if name == "perspective":
        return A.Perspective(
            scale=(step.distortion / 3, step.distortion), border_mode=0, fill=FILL, p=p
        )
    if name == "grayscale":
        return A.ToGray(num_output_channels=3, p=p)
    raise ValueError(f"unknown augmentation: {name}")


def augmentations(cfg: AugmentConfig, image_size: int = 224) -> list[A.BasicTransform]:
    """The random part of the training pipeline, as configured, in pipeline order."""
    return [step_transform(name, step, image_size) for name, step in cfg.active_steps()]


def build(
    cfg: AugmentConfig,
    image_size: int,
    seed: int | None = None,
    normalize: bool = True,
    mean: tuple[float, ...] = IMAGENET_MEAN,
    std: tuple[float, ...] = IMAGENET_STD,
    record: bool = False,
) -> A.Compose:
    """The one pipeline: resize, the configured steps, and (``normalize``) the tensor step.

    ``record`` keeps each call's applied parameters in ``result["applied_transforms"]``;
    neither it nor ``normalize`` changes the random draws.
    """
    steps = [A.Resize(image_size, image_size), *augmentations(cfg, image_size)]
    if normalize:
        steps += _to_tensor(mean, std)
    pipeline = A.Compose(steps, seed=seed, save_applied_params=record)
    reseed(pipeline, seed)
    return pipeline


def reseed(pipeline: A.Compose, seed: int | None) -> None:
    """Give all steps one shared random stream seeded with ``seed``.

    albumentations 2.0 seeds every step with its own copy of the seed, so identical streams
    make all steps fire together or not at all; a DataLoader worker calls this with its own
    seed so workers do not repeat each other's draws.
    """
    pipeline.set_random_state(np.random.default_rng(seed), random.Random(seed))


def train_transform(
    cfg: AugmentConfig,
    image_size: int,
    mean: tuple[float, ...] = IMAGENET_MEAN,
    std: tuple[float, ...] = IMAGENET_STD,
    seed: int | None = None,
) -> A.Compose:
    """Resize, then the configured augmentations, then normalise to a CHW float tensor."""
    return build(cfg, image_size, seed=seed, mean=mean, std=std)


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
    return [rgb for rgb, _ in preview_with_params(image, cfg, image_size, count, seed)]


def preview_with_params(
    image: np.ndarray, cfg: AugmentConfig, image_size: int, count: int, seed: int
) -> list[tuple[np.ndarray, str]]:
    """``count`` variants, each with a short description of what was applied to it.

    The pipeline is the training one, seeded with ``seed``: variant *i* is what the
    ``i``-th call of ``train_transform(cfg, image_size, seed=seed)`` returns, before
    normalisation.
    """
    pipeline = build(cfg, image_size, seed=seed, normalize=False, record=True)
    out = []
    for _ in range(count):
        result = pipeline(image=_as_rgb(image))
        applied = result.get("applied_transforms", [])
        out.append((result["image"], describe(applied, image_size)))
    return out


def resized(image: np.ndarray, image_size: int) -> np.ndarray:
    """The original as training sees it before augmentation (resized only)."""
    return A.Resize(image_size, image_size)(image=_as_rgb(image))["image"]


def to_tensor(
    rgb: np.ndarray,
    mean: tuple[float, ...] = IMAGENET_MEAN,
    std: tuple[float, ...] = IMAGENET_STD,
):
    """The training pipeline's last step on an already augmented uint8 image."""
    return A.Compose(_to_tensor(mean, std))(image=rgb)["image"]


def denormalize(
    batch,
    mean: tuple[float, ...] = IMAGENET_MEAN,
    std: tuple[float, ...] = IMAGENET_STD,
) -> list[np.ndarray]:
    """A normalised ``N x 3 x H x W`` tensor back to displayable uint8 RGB arrays."""
    array = batch.detach().cpu().float().numpy()
    array = (
        array * np.asarray(std, np.float32)[:, None, None]
        + np.asarray(mean, np.float32)[:, None, None]
    )
    array = np.clip(np.rint(array * 255.0), 0, 255).astype(np.uint8)
    return [np.ascontiguousarray(a.transpose(1, 2, 0)) for a in array]


def describe(applied: list[tuple[str, dict[str, Any]]], image_size: int) -> str:
    """One line per random step that fired, e.g. ``Rotate 7.3°``; resize is left out."""
    lines = [_describe_one(name, params, image_size) for name, params in applied]
    text = "\n".join(line for line in lines if line)
    return text or "No augmentation applied (each step has its own probability)."


def _describe_one(name: str, params: dict[str, Any], size: int) -> str:
    if name == "Resize":
        return ""
    if name == "HorizontalFlip":
        return "Horizontal flip"
    if name == "VerticalFlip":
        return "Vertical flip"
    if name == "Rotate":
        m = params["matrix"]
        return f"Rotate {math.degrees(math.atan2(m[1][0], m[0][0])):+.1f}°"
    if name == "RandomResizedCrop":
        x1, y1, x2, y2 = params["crop_coords"]
        area = (x2 - x1) * (y2 - y1) / float(size * size)
        return f"Zoom: crop of {area:.0%} of the image ({x2 - x1}x{y2 - y1} px)"
    if name == "Affine":
        m = params["matrix"]
        return f"Shift {m[0][2]:+.0f} px, {m[1][2]:+.0f} px"
    if name == "RandomBrightnessContrast":
        return f"Brightness {params['beta'] / 255:+.0%}, contrast ×{params['alpha']:.2f}"
    if name == "HueSaturationValue":
        return f"Hue {2 * params['hue_shift']:+.0f}°, saturation {params['sat_shift'] / 255:+.0%}"
    if name == "GaussianBlur":
        return f"Blur (kernel {len(params['kernel'])} px)"
    if name == "GaussNoise":
        return f"Noise σ {float(np.std(params['noise_map'])) / 255:.1%}"
    if name == "CoarseDropout":
        return f"Cutout: {len(params['holes'])} hole(s)"
    if name == "Perspective":
        return "Perspective tilt"
    if name == "ToGray":
        return "Grayscale"
    return name


def _as_rgb(image: np.ndarray) -> np.ndarray:
    """Grey (H x W or H x W x 1) and RGBA arrays as H x W x 3 uint8."""
    if image.ndim == 2:
        image = image[..., None]
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    elif image.shape[2] == 4:
        image = image[..., :3]
    return np.ascontiguousarray(image, dtype=np.uint8)


def _to_tensor(mean: tuple[float, ...], std: tuple[float, ...]) -> list[A.BasicTransform]:
    return [A.Normalize(mean=mean, std=std, max_pixel_value=255.0), ToTensorV2()]
