"""Build models from the catalogue, with pre-trained weights and a fresh classification head."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn

from studio.engine.control import StopToken
from studio.engine.models.catalog import get_spec
from studio.errors import StudioError


class SmallCNN(nn.Module):
    """Four conv blocks and a linear head: trains in seconds on small images, on a CPU."""

    def __init__(self, num_classes: int, dropout: float = 0.2, width: int = 32) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for i in range(4):
            out = width * 2 ** min(i, 2)
            layers += [
                nn.Conv2d(channels, out, 3, padding=1, bias=False),
                nn.BatchNorm2d(out),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2) if i < 3 else nn.AdaptiveAvgPool2d(1),
            ]
            channels = out
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(channels, num_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def create_model(
    name: str,
    num_classes: int,
    weights: str = "none",
    dropout: float = 0.2,
    image_size: int | None = None,
    token: StopToken | None = None,
) -> nn.Module:
    """Create ``name`` for ``num_classes`` classes, with a fresh dropout + linear head.

    ``weights`` is ``"none"`` (random), ``"imagenet"`` (torchvision's default weights,
    downloaded into the torch cache on first use) or the path of a weights file
    (``.pth``/``.pt`` state dict or ``.safetensors``), loaded without running any pickle code.
    A download stops when ``token`` asks.
    """
    spec = get_spec(name)
    if spec.torchvision_name is None:
        if weights != "none":
            raise StudioError(f"{spec.title} has no pre-trained weights: use --weights none.")
        return SmallCNN(num_classes, dropout)
    if image_size is not None and image_size < spec.min_image_size:
        raise StudioError(
            f"{spec.title} needs images of at least {spec.min_image_size} px (got {image_size} "
            f"px): set the image size to {spec.min_image_size} or more, or pick another model."
        )
    import torchvision

    extra = {}
    if spec.fixed_size is not None and image_size not in (None, spec.fixed_size):
        if weights != "none":
            raise StudioError(
                f"{spec.title}'s pre-trained weights need {spec.fixed_size} px "
                f"images: set the image size to {spec.fixed_size}."
            )
        if image_size % 16:
            raise StudioError(f"{spec.title} needs an image size divisible by 16.")
        extra["image_size"] = image_size
    model = torchvision.models.get_model(spec.torchvision_name, weights=None, **extra)
    if weights == "imagenet":
        from studio.engine.models.weights import load_imagenet

        model.load_state_dict(load_imagenet(spec, token=token))
    elif weights != "none":
        _load_weights_file(model, Path(weights))
    _replace_head(model, num_classes, dropout)
    return model


def _load_weights_file(model: nn.Module, path: Path) -> None:
    """A weights file for this very architecture (any head: it is replaced), checked tensor by
    tensor before it is loaded."""
    from studio.engine.models.state import checked, read_tensors

    head = next(name for name, m in model.named_modules() if m is _last_linear(model)[2])
    state = checked(model.state_dict(), read_tensors(path), path.name, ignore=head)
    model.load_state_dict(state, strict=False)  # all but the head, which is replaced


def _last_linear(model: nn.Module) -> tuple[nn.Module, str, nn.Linear]:
    found = None
    for parent in model.modules():
        for child_name, child in parent.named_children():
            if isinstance(child, nn.Linear):
                found = (parent, child_name, child)
    if found is None:
        raise StudioError(f"{type(model).__name__} has no linear classification head.")
    return found


def _replace_head(model: nn.Module, num_classes: int, dropout: float) -> None:
    parent, child_name, linear = _last_linear(model)
    head = nn.Sequential(nn.Dropout(dropout), nn.Linear(linear.in_features, num_classes))
    setattr(parent, child_name, head)
    for name, module in model.named_modules():
        if module is head:
            model.studio_head = name  # a plain string: not registered as a submodule


def head_module(model: nn.Module) -> nn.Module:
    """The classification head Studio attached (the whole model's last layer)."""
    name = getattr(model, "studio_head", "head")
    return model.get_submodule(name)


@contextmanager
def without_head(model: nn.Module) -> Iterator[nn.Module]:
    """``model`` outputting its head's input (the frozen backbone's features) within the
    block; the head is put back after it."""
    parent_name, _, child = model.studio_head.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    head = getattr(parent, child)
    setattr(parent, child, nn.Identity())
    try:
        yield model
    finally:
        setattr(parent, child, head)
