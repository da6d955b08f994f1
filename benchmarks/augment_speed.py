"""Augmentation speed: the preview grid, and training-pipeline throughput per core.

1. Preview: time to render the original and 12 variants (what the augmentation dock does on
   every edit) at 224 and 512 px, for the Light and Heavy presets. The image is decoded once
   and cached, as in the app; the first ("cold") render includes the decode.
2. Throughput per core: images/s of the training pipeline (studio.engine.augment.pipeline, i.e.
   albumentations + OpenCV) against a torchvision.transforms.v2 pipeline doing the same work
   (same steps, probabilities and magnitudes, resize to 224 px, normalise to a float tensor),
   both on one thread, on the same pre-decoded images.

    uv run python benchmarks/augment_speed.py [--seconds 3] [--repeats 7]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from PIL import Image

from studio.config import AugmentConfig
from studio.engine.augment import pipeline as augment
from studio.engine.augment.preview import _cached_rgb, render_preview


def photo(width: int, height: int, seed: int) -> np.ndarray:
    """A smooth synthetic photo (gradients and blobs), so JPEG and resizing behave normally."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(width, height)
    channels = []
    for _ in range(3):
        a, b, c = rng.uniform(-3, 3, 3)
        channels.append(np.sin(a * x + b * y + c) * 0.5 + 0.5)
    image = np.stack(channels, axis=2)
    image += rng.normal(0, 0.03, image.shape)
    return np.clip(image * 255, 0, 255).astype(np.uint8)


def time_preview(path: Path, cfg: AugmentConfig, size: int, repeats: int) -> tuple[float, float]:
    """(cold ms incl. decode, median warm ms) for the original + 12 variants."""
    _cached_rgb.cache_clear()
    t0 = time.perf_counter()
    render_preview(path, cfg, size, 12, seed=0)
    cold = time.perf_counter() - t0
    warm = []
    for seed in range(1, repeats + 1):
        t0 = time.perf_counter()
        render_preview(path, cfg, size, 12, seed=seed)
        warm.append(time.perf_counter() - t0)
    return cold * 1000, statistics.median(warm) * 1000


def torchvision_pipeline(cfg: AugmentConfig, size: int):
    """The same steps as ``augment.build`` in torchvision.transforms.v2 (uint8 CHW input)."""
    import torch
    from torchvision.transforms import v2

    def maybe(t, p):
        return v2.RandomApply([t], p=p)

    colour, tensor = [], []
    for name, s in cfg.active_steps():
        if name == "horizontal_flip":
            colour.append(v2.RandomHorizontalFlip(s.p))
        elif name == "vertical_flip":
            colour.append(v2.RandomVerticalFlip(s.p))
        elif name == "rotate":
            colour.append(maybe(v2.RandomRotation(s.degrees, fill=128), s.p))
        elif name == "zoom":
            crop = v2.RandomResizedCrop(
                size, scale=(s.min_area, 1.0), ratio=(1 / s.max_aspect, s.max_aspect)
            )
            colour.append(maybe(crop, s.p))
        elif name == "shift":
            shift = v2.RandomAffine(0, translate=(s.fraction, s.fraction), fill=128)
            colour.append(maybe(shift, s.p))
        elif name == "brightness_contrast":
            colour.append(maybe(v2.ColorJitter(brightness=s.brightness, contrast=s.contrast), s.p))
        elif name == "hue_saturation":
            jitter = v2.ColorJitter(saturation=s.saturation, hue=s.hue_degrees / 360)
            colour.append(maybe(jitter, s.p))
        elif name == "grayscale":
            colour.append(v2.RandomGrayscale(s.p))
        elif name == "perspective":
            colour.append(v2.RandomPerspective(2 * s.distortion, p=s.p, fill=128))
        elif name == "blur":
            kernel = 2 * math.ceil(3 * s.max_sigma) + 1
            tensor.append(maybe(v2.GaussianBlur(kernel, sigma=(0.1, s.max_sigma)), s.p))
        elif name == "noise":
            tensor.append(maybe(v2.GaussianNoise(sigma=s.std), s.p))
        elif name == "cutout":
            area = (s.size**2 / 4, s.size**2)
            holes = [v2.RandomErasing(1.0, scale=area, value=0.5) for _ in range(s.holes)]
            tensor.append(maybe(v2.Compose(holes), s.p))
    return v2.Compose(
        [
            v2.Resize((size, size), antialias=True),
            *colour,
            v2.ToDtype(torch.float32, scale=True),
            *tensor,
            v2.Normalize(augment.IMAGENET_MEAN, augment.IMAGENET_STD),
        ]
    )


def throughput(fn, images: list, seconds: float) -> float:
    """Images per second of ``fn`` over ``images`` (cycled) for about ``seconds``."""
    for image in images[:4]:
        fn(image)  # warm-up
    done, t0 = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - t0) < seconds:
        fn(images[done % len(images)])
        done += 1
    return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    import cv2
    import torch

    torch.set_num_threads(1)  # per core: one thread for both libraries
    cv2.setNumThreads(1)
    presets = ["light", "heavy"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "photo.jpg"
        Image.fromarray(photo(1024, 768, 0)).save(path, quality=90)
        print("Preview: original + 12 variants (1024x768 JPEG; cold includes the decode)")
        print(f"{'preset':<8} {'size':>5} {'cold ms':>9} {'warm ms':>9}")
        for preset in presets:
            for size in (224, 512):
                cold, warm = time_preview(path, AugmentConfig(preset=preset), size, args.repeats)
                print(f"{preset:<8} {size:>5} {cold:>9.1f} {warm:>9.1f}")

    images = [photo(500, 375, seed) for seed in range(8)]
    tensors = [torch.from_numpy(im).permute(2, 0, 1).contiguous() for im in images]
    print(f"\nTraining pipeline throughput, 1 thread, 500x375 -> 224 px ({args.seconds:g} s each)")
    print(f"{'preset':<8} {'studio (albumentations)':>24} {'torchvision v2':>16} {'ratio':>7}")
    for preset in presets:
        cfg = AugmentConfig(preset=preset)
        ours = augment.train_transform(cfg, 224, seed=0)
        theirs = torchvision_pipeline(cfg, 224)
        torch.manual_seed(0)
        a = throughput(lambda im, t=ours: t(image=im)["image"], images, args.seconds)
        b = throughput(theirs, tensors, args.seconds)
        print(f"{preset:<8} {a:>18.0f} img/s {b:>10.0f} img/s {a / b:>6.2f}x")
    print(f"\n{os.cpu_count()} CPU cores; torch {torch.__version__}, OpenCV {cv2.__version__}")


if __name__ == "__main__":
    main()
