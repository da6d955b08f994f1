"""The model catalogue: names and advice, importable without torch (the GUI lists it at start).

Only the input size is typed here (the settings resolver needs it without torch); the other
numbers (parameters, GFLOPs, ImageNet accuracy, weights size) are read from torchvision's
weights metadata by :func:`studio.engine.models.info.model_info`.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """One architecture Studio can train.

    ``torchvision_name`` is the builder in ``torchvision.models`` (``None`` for Studio's own);
    pre-trained weights come from that builder's default weights enum. ``fixed_size`` is set
    for models whose pre-trained weights only accept one input size (ViT); ``min_image_size``
    is the smallest input its downsampling leaves at least one pixel of.
    ``default_image_size`` is the crop size the pre-trained weights were made at (a test
    holds it equal to torchvision's metadata), so no choice waits for torchvision to load.
    """

    name: str
    title: str
    family: str
    good_for: str
    default_image_size: int
    torchvision_name: str | None = None
    fixed_size: int | None = None
    min_image_size: int = 16  # smaller images shrink to nothing inside (VGG, ConvNeXt: 32)

    @property
    def has_pretrained(self) -> bool:
        return self.torchvision_name is not None


def _tv(name: str, title: str, family: str, good_for: str, size: int = 224, **kw) -> ModelSpec:
    return ModelSpec(name, title, family, good_for, size, name, **kw)


CATALOG: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "small_cnn",
            "Small CNN (from scratch)",
            "cnn",
            "Tiny images and quick experiments on a CPU; no pre-trained weights.",
            64,
        ),
        _tv(
            "mobilenet_v3_small",
            "MobileNetV3-Small",
            "mobilenet",
            "Fastest on a CPU and smallest to export, for phones and laptops.",
        ),
        _tv(
            "mobilenet_v3_large",
            "MobileNetV3-Large",
            "mobilenet",
            "Fast on a CPU with clearly better accuracy than the small one.",
        ),
        _tv(
            "regnet_y_400mf",
            "RegNetY-400MF",
            "regnet",
            "Efficient and accurate for its tiny compute budget.",
        ),
        _tv(
            "resnet18",
            "ResNet-18",
            "resnet",
            "The well-understood default for fine-tuning; start here on a GPU.",
        ),
        _tv("resnet34", "ResNet-34", "resnet", "A deeper ResNet-18: a little more accuracy."),
        _tv("resnet50", "ResNet-50", "resnet", "The classic strong baseline; wants a GPU."),
        _tv(
            "efficientnet_b0",
            "EfficientNet-B0",
            "efficientnet",
            "Good accuracy for its size; a strong step up from ResNet-18.",
        ),
        _tv(
            "efficientnet_b2",
            "EfficientNet-B2",
            "efficientnet",
            "More accurate than B0 at larger images; slower.",
            288,
        ),
        _tv(
            "efficientnet_v2_s",
            "EfficientNetV2-S",
            "efficientnet",
            "High accuracy from 384 px images; needs a GPU.",
            384,
        ),
        _tv(
            "convnext_tiny",
            "ConvNeXt-Tiny",
            "convnext",
            "Modern CNN with excellent accuracy; needs a GPU.",
            min_image_size=32,
        ),
        _tv(
            "vgg11_bn",
            "VGG-11 (BN)",
            "vgg",
            "Simple and classic, easy to understand; large weights.",
            min_image_size=32,
        ),
        _tv(
            "vgg16_bn",
            "VGG-16 (BN)",
            "vgg",
            "The textbook deep CNN; very large to export.",
            min_image_size=32,
        ),
        _tv(
            "vit_b_16",
            "ViT-B/16",
            "vit",
            "Vision transformer: best accuracy with enough data; needs a GPU and 224 px.",
            fixed_size=224,
        ),
    )
}


def get_spec(name: str) -> ModelSpec:
    """Look a model up by name, with the list of known names in the error."""
    from studio.errors import StudioError

    try:
        return CATALOG[name]
    except KeyError:
        known = ", ".join(CATALOG)
        raise StudioError(f"Unknown model '{name}'. Choose one of: {known}.") from None
