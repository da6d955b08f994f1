"""The one evaluation preprocessing and the one inference loop.

Validation, evaluation, prediction, export verification, the feature cache and Grad-CAM all
preprocess with :func:`eval_preprocessing` and (but for Grad-CAM, which needs gradients) run
through :func:`infer`, under the same mixed precision as training (:func:`autocast`), so the
accuracy a run reports while training is the accuracy its results show.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch
from torch import nn

from studio.engine.control import StopToken
from studio.engine.models.catalog import get_spec
from studio.engine.models.weights import normalisation


def model_normalisation(model_name: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Mean and std of the images ``model_name`` expects (its pre-trained weights')."""
    return normalisation(get_spec(model_name))


def eval_preprocessing(model_name: str, image_size: int):
    """Decoded uint8 RGB → the model's input: resize to ``image_size``, normalise with the
    model's mean/std, CHW float tensor (an albumentations pipeline: ``f(image=rgb)["image"]``)."""
    from studio.engine.augment.pipeline import eval_transform

    return eval_transform(image_size, *model_normalisation(model_name))


def autocast(device: torch.device, mode: str) -> tuple[AbstractContextManager, torch.dtype]:
    """Mixed precision on CUDA: bf16 where the GPU has it, else fp16 (with a grad scaler when
    training); ``mode`` is the config's ``mixed_precision`` (``off`` for full precision)."""
    if device.type != "cuda" or mode == "off":
        return nullcontext(), torch.float32
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.autocast("cuda", dtype=dtype), dtype


def to_device(images: torch.Tensor, targets: torch.Tensor, device: torch.device):
    """A batch onto ``device`` (channels-last images on CUDA), without waiting for the copy."""
    return images_to(images, device), targets.to(device, non_blocking=True)


def images_to(images: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Model inputs onto ``device``: channels-last 4-D images on CUDA (what cuDNN is fastest
    with), asynchronously from pinned memory."""
    if device.type == "cuda" and images.dim() == 4:
        return images.to(device, non_blocking=True, memory_format=torch.channels_last)
    return images.to(device, non_blocking=True)


def infer(
    model: nn.Module,
    batches: Iterable[tuple[torch.Tensor, Any]],
    device: torch.device,
    precision: str,
    token: StopToken | None = None,
) -> Iterator[tuple[torch.Tensor, Any]]:
    """``(outputs, extra)`` for each ``(inputs, extra)`` batch: ``model`` in eval mode, no
    gradients, autocast as training does, float32 outputs on ``device``. ``extra`` (targets,
    row numbers…) passes through untouched. Stops early, between batches, when ``token``
    asks to: the caller checks the token after the loop."""
    context = autocast(device, precision)[0]
    model.eval()
    with torch.no_grad():
        for inputs, extra in batches:
            if token is not None and token.should_stop():
                return
            inputs = images_to(inputs, device)
            with context:
                outputs = model(inputs)
            yield outputs.float(), extra
