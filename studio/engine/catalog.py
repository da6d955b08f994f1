"""The model catalogue: plain metadata, importable without torch (the GUI lists it at start)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """One architecture Studio can train.

    ``torchvision_name`` is the builder in ``torchvision.models`` (``None`` for Studio's own);
    pre-trained weights come from that builder's default weights enum.
    """

    name: str
    title: str
    good_for: str
    default_image_size: int
    torchvision_name: str | None = None

    @property
    def has_pretrained(self) -> bool:
        return self.torchvision_name is not None


CATALOG: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "small_cnn",
            "Small CNN (from scratch)",
            "Tiny images and quick experiments on a CPU; no pre-trained weights.",
            64,
        ),
        ModelSpec(
            "resnet18",
            "ResNet-18",
            "A solid, well-understood default for fine-tuning; fast on a GPU.",
            224,
            "resnet18",
        ),
        ModelSpec(
            "mobilenet_v3_small",
            "MobileNetV3-Small",
            "Fast on a CPU and small to export, for phones and laptops.",
            224,
            "mobilenet_v3_small",
        ),
        ModelSpec(
            "efficientnet_b0",
            "EfficientNet-B0",
            "Good accuracy for its size; a strong step up from ResNet-18.",
            224,
            "efficientnet_b0",
        ),
    )
}


def get_spec(name: str) -> ModelSpec:
    """Look a model up by name, with the list of known names in the error."""
    from studio.engine.errors import StudioError

    try:
        return CATALOG[name]
    except KeyError:
        known = ", ".join(CATALOG)
        raise StudioError(f"Unknown model '{name}'. Choose one of: {known}.") from None
