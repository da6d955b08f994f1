"""The augmentation pipeline as typed, validated settings: one section per augmentation.

Each step has ``enabled``, a probability ``p`` and its magnitudes, with ranges and a one-line
description (what it does, when it hurts) that the GUI shows as tooltips. Presets fill every
step; a file or the CLI may name a preset and override single fields of single steps.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PresetName = Literal["none", "light", "medium", "heavy", "documents", "custom"]

PRESET_TITLES: dict[str, str] = {
    "none": "None",
    "light": "Light",
    "medium": "Medium",
    "heavy": "Heavy",
    "documents": "Documents & digits",
    "custom": "Custom",
}


class _Step(BaseModel):
    """One augmentation: on/off and how often it is applied."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    enabled: bool = Field(False, title="On", description="Whether this augmentation is used.")
    p: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        title="Probability",
        description="Share of training images this is applied to (0 = never, 1 = always).",
    )


class HorizontalFlip(_Step):
    """Mirror left-right. Harmless for most photos; hurts for text, digits and arrows."""


class VerticalFlip(_Step):
    """Turn upside down. Only for top-down views (satellite, microscopy); hurts most photos."""


class Rotate(_Step):
    """Rotate by a random angle up to ``degrees``; large angles hurt digits (6 becomes 9)."""

    degrees: float = Field(
        10.0,
        ge=0.0,
        le=180.0,
        title="Max angle (°)",
        description="Largest rotation either way. Small (5–15°) mimics a tilted camera; "
        "large angles hurt when orientation matters (6 becomes 9).",
    )


class Zoom(_Step):
    """Random resized crop: a random part of the image, stretched back to full size."""

    min_area: float = Field(
        0.7,
        ge=0.05,
        le=1.0,
        title="Min area",
        description="Smallest crop as a share of the image. Below about 0.3 the object may "
        "be cropped away and the label becomes wrong.",
    )
    max_aspect: float = Field(
        1.2,
        ge=1.0,
        le=3.0,
        title="Max aspect change",
        description="How much the crop may be squeezed or stretched (1 = never). Large "
        "values distort shapes.",
    )


class Shift(_Step):
    """Move the image by up to ``fraction`` of its size; the border is filled with grey."""

    fraction: float = Field(
        0.06,
        ge=0.0,
        le=0.5,
        title="Max shift",
        description="Largest move as a share of the image size. Hurts when the object sits "
        "at the edge and would move out of view.",
    )


class BrightnessContrast(_Step):
    """Lighter/darker and more/less contrast, as under other lighting."""

    brightness: float = Field(
        0.15,
        ge=0.0,
        le=1.0,
        title="Brightness",
        description="Largest brightness change (0.2 = ±20%). Hurts when brightness is "
        "the difference between classes (day/night).",
    )
    contrast: float = Field(
        0.15,
        ge=0.0,
        le=1.0,
        title="Contrast",
        description="Largest contrast change (0.2 = ±20%). Strong values wash out detail.",
    )


class HueSaturation(_Step):
    """Shift colours round the colour wheel and make them more or less vivid."""

    hue_degrees: float = Field(
        10.0,
        ge=0.0,
        le=180.0,
        title="Max hue shift (°)",
        description="Largest turn of the colour wheel. Hurts when classes differ by colour "
        "(ripe/unripe, red/green lights).",
    )
    saturation: float = Field(
        0.15,
        ge=0.0,
        le=1.0,
        title="Saturation",
        description="Largest change of colour strength (0.2 = ±20%).",
    )


class GaussianBlur(_Step):
    """Blur, as from a shaky or out-of-focus camera."""

    max_sigma: float = Field(
        1.0,
        ge=0.1,
        le=10.0,
        title="Max blur (σ px)",
        description="Strongest blur radius in pixels. Hurts when fine detail (texture, small "
        "print) decides the class.",
    )


class GaussianNoise(_Step):
    """Random grain, as from a camera in low light."""

    std: float = Field(
        0.05,
        ge=0.0,
        le=0.5,
        title="Max noise",
        description="Strongest noise as a share of the pixel range. Hurts with tiny or "
        "low-contrast details.",
    )


class Cutout(_Step):
    """Grey out random rectangles so the model cannot rely on one small detail."""

    holes: int = Field(
        2,
        ge=1,
        le=16,
        title="Max holes",
        description="Most rectangles per image. Hurts when one small part decides the "
        "class and can be covered.",
    )
    size: float = Field(
        0.15,
        ge=0.02,
        le=0.5,
        title="Max hole size",
        description="Largest rectangle side as a share of the image side.",
    )


class Perspective(_Step):
    """Tilt the image plane, as if seen from another angle."""

    distortion: float = Field(
        0.05,
        ge=0.01,
        le=0.3,
        title="Distortion",
        description="How far corners may move (share of the image). Strong values squash "
        "the object out of shape.",
    )


class Grayscale(_Step):
    """Drop colour. Helps when colour is incidental; hurts when classes differ by colour."""


STEP_TYPES: dict[str, type[_Step]] = {
    "horizontal_flip": HorizontalFlip,
    "vertical_flip": VerticalFlip,
    "rotate": Rotate,
    "zoom": Zoom,
    "shift": Shift,
    "brightness_contrast": BrightnessContrast,
    "hue_saturation": HueSaturation,
    "blur": GaussianBlur,
    "noise": GaussianNoise,
    "cutout": Cutout,
    "perspective": Perspective,
    "grayscale": Grayscale,
}

_LIGHT: dict[str, dict[str, Any]] = {
    "horizontal_flip": {"enabled": True, "p": 0.5},
    "rotate": {"enabled": True, "p": 0.5, "degrees": 10},
    "zoom": {"enabled": True, "p": 0.5, "min_area": 0.8, "max_aspect": 1.1},
    "shift": {"enabled": True, "p": 0.5, "fraction": 0.06},
    "brightness_contrast": {"enabled": True, "p": 0.5, "brightness": 0.15, "contrast": 0.15},
}
_MEDIUM: dict[str, dict[str, Any]] = {
    "horizontal_flip": {"enabled": True, "p": 0.5},
    "rotate": {"enabled": True, "p": 0.6, "degrees": 15},
    "zoom": {"enabled": True, "p": 0.6, "min_area": 0.6, "max_aspect": 1.25},
    "shift": {"enabled": True, "p": 0.6, "fraction": 0.1},
    "brightness_contrast": {"enabled": True, "p": 0.6, "brightness": 0.2, "contrast": 0.2},
    "hue_saturation": {"enabled": True, "p": 0.4, "hue_degrees": 10, "saturation": 0.2},
    "blur": {"enabled": True, "p": 0.2, "max_sigma": 1.0},
    "cutout": {"enabled": True, "p": 0.3, "holes": 2, "size": 0.15},
}
_HEAVY: dict[str, dict[str, Any]] = {
    "horizontal_flip": {"enabled": True, "p": 0.5},
    "rotate": {"enabled": True, "p": 0.7, "degrees": 25},
    "zoom": {"enabled": True, "p": 0.7, "min_area": 0.4, "max_aspect": 1.33},
    "shift": {"enabled": True, "p": 0.7, "fraction": 0.15},
    "brightness_contrast": {"enabled": True, "p": 0.7, "brightness": 0.3, "contrast": 0.3},
    "hue_saturation": {"enabled": True, "p": 0.5, "hue_degrees": 20, "saturation": 0.3},
    "blur": {"enabled": True, "p": 0.3, "max_sigma": 1.5},
    "noise": {"enabled": True, "p": 0.3, "std": 0.08},
    "cutout": {"enabled": True, "p": 0.5, "holes": 4, "size": 0.2},
    "perspective": {"enabled": True, "p": 0.3, "distortion": 0.08},
    "grayscale": {"enabled": True, "p": 0.1},
}
_DOCUMENTS: dict[str, dict[str, Any]] = {
    "rotate": {"enabled": True, "p": 0.5, "degrees": 5},
    "zoom": {"enabled": True, "p": 0.4, "min_area": 0.85, "max_aspect": 1.1},
    "shift": {"enabled": True, "p": 0.5, "fraction": 0.05},
    "brightness_contrast": {"enabled": True, "p": 0.5, "brightness": 0.2, "contrast": 0.2},
    "blur": {"enabled": True, "p": 0.2, "max_sigma": 0.8},
    "noise": {"enabled": True, "p": 0.2, "std": 0.04},
}
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "none": {},
    "light": _LIGHT,
    "medium": _MEDIUM,
    "heavy": _HEAVY,
    "documents": _DOCUMENTS,
}


def _preset_steps(name: str) -> dict[str, dict[str, Any]]:
    chosen = PRESETS.get(name, {})
    return {step: dict(chosen.get(step, {"enabled": False})) for step in STEP_TYPES}


def _same(step: type[_Step], a: dict[str, Any], b: dict[str, Any]) -> bool:
    try:
        return step(**a) == step(**b)
    except ValueError:  # invalid values: the real validation reports them
        return False


class AugmentConfig(BaseModel):
    """Random changes applied to training images (never to validation images).

    Steps run in the order of the fields below. ``preset`` names where the steps came from;
    steps left out of a file are taken from it, and a file's step values override it.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    preset: PresetName = Field(
        "light",
        title="Augmentation preset",
        description="A starting point: Light suits most photos; Documents & digits never "
        "flips. Augmentation is free data, as long as the variations are realistic.",
    )
    horizontal_flip: HorizontalFlip = Field(
        default_factory=lambda: HorizontalFlip(**_LIGHT["horizontal_flip"]),
        title="Horizontal flip",
        description=HorizontalFlip.__doc__,
    )
    vertical_flip: VerticalFlip = Field(
        default_factory=VerticalFlip, title="Vertical flip", description=VerticalFlip.__doc__
    )
    rotate: Rotate = Field(
        default_factory=lambda: Rotate(**_LIGHT["rotate"]),
        title="Rotate",
        description=Rotate.__doc__,
    )
    zoom: Zoom = Field(
        default_factory=lambda: Zoom(**_LIGHT["zoom"]), title="Zoom", description=Zoom.__doc__
    )
    shift: Shift = Field(
        default_factory=lambda: Shift(**_LIGHT["shift"]), title="Shift", description=Shift.__doc__
    )
    brightness_contrast: BrightnessContrast = Field(
        default_factory=lambda: BrightnessContrast(**_LIGHT["brightness_contrast"]),
        title="Brightness & contrast",
        description=BrightnessContrast.__doc__,
    )
    hue_saturation: HueSaturation = Field(
        default_factory=HueSaturation,
        title="Hue & saturation",
        description=HueSaturation.__doc__,
    )
    blur: GaussianBlur = Field(
        default_factory=GaussianBlur, title="Gaussian blur", description=GaussianBlur.__doc__
    )
    noise: GaussianNoise = Field(
        default_factory=GaussianNoise, title="Gaussian noise", description=GaussianNoise.__doc__
    )
    cutout: Cutout = Field(default_factory=Cutout, title="Cutout", description=Cutout.__doc__)
    perspective: Perspective = Field(
        default_factory=Perspective, title="Perspective", description=Perspective.__doc__
    )
    grayscale: Grayscale = Field(
        default_factory=Grayscale, title="Grayscale", description=Grayscale.__doc__
    )

    @model_validator(mode="before")
    @classmethod
    def _fill_from_preset(cls, data: Any) -> Any:
        """Missing steps come from the preset; a step given as a dict overrides its fields.
        A legacy ``horizontal_flip: bool`` (schema 1 files, old CLI) still works."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        preset = data.get("preset", "light")
        legacy_flip = data.get("horizontal_flip")
        if isinstance(legacy_flip, bool):
            if preset == "none":
                del data["horizontal_flip"]  # it never applied without a preset
            else:
                data["horizontal_flip"] = {"enabled": legacy_flip}
        base = _preset_steps(preset if isinstance(preset, str) else "light")
        overridden = False
        for name in STEP_TYPES:
            given = data.get(name)
            if given is None:
                data[name] = base[name]
            elif isinstance(given, dict):
                merged = {**base[name], **given}
                overridden |= not _same(STEP_TYPES[name], merged, base[name])
                data[name] = merged
        if overridden:
            data["preset"] = "custom"
        return data

    @classmethod
    def from_preset(cls, name: str) -> AugmentConfig:
        """The steps of preset ``name`` (``none``, ``light``, ``medium``, ``heavy``,
        ``documents``)."""
        return cls(preset=name)  # type: ignore[arg-type]

    def steps(self) -> list[tuple[str, _Step]]:
        """``(name, step)`` for every step, in pipeline order."""
        return [(name, getattr(self, name)) for name in STEP_TYPES]

    def active_steps(self) -> list[tuple[str, _Step]]:
        """The steps that can change an image: enabled with a probability above zero."""
        if self.preset == "none":
            return []
        return [(n, s) for n, s in self.steps() if s.enabled and s.p > 0]
