"""Grad-CAM: which pixels drove a CNN's prediction (hooks on the last conv layer, pure torch).

Selvaraju et al. 2017: weight the last convolution's feature maps by the mean gradient of
the class score over each map, keep the positive part, upsample to the input size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from studio.engine.augment import pipeline as augment
from studio.engine.data.images import ImageError, load_rgb
from studio.engine.models.catalog import get_spec
from studio.engine.models.inference import images_to
from studio.engine.results.evaluation import LoadedRun
from studio.errors import StudioError


def supports_gradcam(model_name: str) -> bool:
    """Grad-CAM needs convolutional feature maps: every backbone but the transformer."""
    return get_spec(model_name).family != "vit"


def last_conv(model: nn.Module) -> nn.Conv2d:
    found = None
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            found = module
    if found is None:
        raise StudioError(f"{type(model).__name__} has no convolution layer for Grad-CAM.")
    return found


def grad_cam(
    run: LoadedRun, path: str | Path, class_index: int | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """``(image, heat, class)``: the resized uint8 RGB image the model saw, a heat map in
    0..1 of the same size, and the class explained (the predicted one by default)."""
    try:
        rgb = load_rgb(path)
    except ImageError as exc:
        raise StudioError(str(exc)) from None
    return grad_cam_rgb(run, rgb, class_index)


def grad_cam_rgb(
    run: LoadedRun, rgb: np.ndarray, class_index: int | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """:func:`grad_cam` of a decoded uint8 RGB image (a pasted picture, a camera frame)."""
    if not supports_gradcam(run.model_name):
        raise StudioError("Grad-CAM is available for CNN backbones, not vision transformers.")
    resized = augment.resized(rgb, run.image_size)  # what is shown: the model's view
    x = images_to(run.tensor(rgb).unsqueeze(0), run.device)  # the one preprocessing
    conv = last_conv(run.model)
    saved: dict[str, torch.Tensor] = {}

    def forward_hook(_module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
        saved["maps"] = output
        output.register_hook(lambda grad: saved.__setitem__("grads", grad))

    handle = conv.register_forward_hook(forward_hook)
    try:
        run.model.eval()
        with torch.enable_grad():
            logits = run.model(x)
            chosen = int(logits.argmax(1)) if class_index is None else int(class_index)
            run.model.zero_grad(set_to_none=True)
            logits[0, chosen].backward()
    finally:
        handle.remove()
        run.model.zero_grad(set_to_none=True)
    maps, grads = saved["maps"].detach()[0].cpu(), saved["grads"].detach()[0].cpu()
    weights = grads.mean(dim=(1, 2))
    cam = torch.relu((weights[:, None, None] * maps).sum(0))[None, None]
    cam = nn.functional.interpolate(
        cam, size=resized.shape[:2], mode="bilinear", align_corners=False
    )[0, 0]
    high = float(cam.max())
    heat = (cam / high).numpy() if high > 0 else np.zeros(resized.shape[:2], np.float32)
    return resized, heat.astype(np.float32), chosen


def overlay(image: np.ndarray, heat: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """The heat map drawn over ``image`` in a blue → red colour ramp (uint8 RGB)."""
    h = np.clip(heat, 0.0, 1.0)[..., None]
    ramp = np.concatenate(
        [
            np.clip(1.5 - np.abs(4 * h - 3), 0, 1),
            np.clip(1.5 - np.abs(4 * h - 2), 0, 1),
            np.clip(1.5 - np.abs(4 * h - 1), 0, 1),
        ],
        axis=2,
    )
    blended = (1 - alpha) * image.astype(np.float32) + alpha * 255.0 * ramp
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)
