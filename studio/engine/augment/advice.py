"""Teaching warnings about an augmentation pipeline for this dataset: a pure function.

Flips and big rotations are wrong for digits, text and direction classes ("6 becomes 9");
colour changes are wrong when classes differ by colour; strong zoom can crop the object away.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Protocol

from studio.config import AugmentConfig

DIGIT_WORDS = {
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
}  # fmt: skip
TEXT_WORDS = {"text", "letter", "letters", "char", "character", "word", "document", "ocr",
              "alphabet", "digit", "digits", "number", "numbers", "mnist", "sign", "label",
              "handwriting", "handwritten", "font", "receipt", "invoice"}  # fmt: skip
DIRECTION_WORDS = {"left", "right", "up", "down", "arrow", "north", "south", "east", "west",
                   "upright", "rotated", "upside", "clockwise", "anticlockwise", "forward",
                   "backward", "turn", "before", "after"}  # fmt: skip
COLOUR_WORDS = {"red", "green", "blue", "yellow", "orange", "purple", "pink", "brown", "black",
                "white", "grey", "gray", "ripe", "unripe", "rotten", "fresh", "colour",
                "color", "healthy", "diseased", "burnt", "raw", "cooked"}  # fmt: skip
LARGE_ROTATION = 15.0  # degrees: beyond this a 6 starts to look like a 9
MIN_SAFE_AREA = 0.3
HUE_GAP = 30.0  # degrees between class hues that makes colour tell classes apart
SATURATED = 0.2


class ColourStats(Protocol):
    hue: float
    saturation: float
    ink: float


@dataclasses.dataclass(frozen=True)
class Advice:
    """A warning shown next to the control of ``step`` (a field of AugmentConfig)."""

    step: str
    text: str


def augmentation_warnings(
    cfg: AugmentConfig,
    classes: Sequence[str],
    colours: Mapping[str, ColourStats] | None = None,
) -> list[Advice]:
    """Warnings for ``cfg`` given the class names and, optionally, their average colours."""
    out: list[Advice] = []
    active = dict(cfg.active_steps())
    reason = orientation_reason(classes, colours)
    if reason:
        if "horizontal_flip" in active:
            out.append(
                Advice(
                    "horizontal_flip",
                    f"{reason}: a mirrored digit or letter is another shape (b↔d, a mirrored "
                    "2 or 7 is no digit). Turn flips off.",
                )
            )
        if "vertical_flip" in active:
            out.append(
                Advice("vertical_flip", f"{reason}: upside down, 6 becomes 9. Turn this off.")
            )
        if "rotate" in active and cfg.rotate.degrees > LARGE_ROTATION:
            out.append(
                Advice(
                    "rotate",
                    f"{reason}: rotations over {LARGE_ROTATION:.0f}° blur the line between "
                    f"shapes (6 and 9, arrows). Keep it at {LARGE_ROTATION:.0f}° or less.",
                )
            )
    else:
        if "vertical_flip" in active:
            out.append(
                Advice(
                    "vertical_flip",
                    "Upside-down images are rare in photos: use this only for top-down views "
                    "(satellite, microscopy).",
                )
            )
        if "rotate" in active and cfg.rotate.degrees > 45:
            out.append(
                Advice(
                    "rotate",
                    "Rotations over 45° rarely happen to photos taken upright; the model "
                    "spends capacity on views it will never see.",
                )
            )
    pair, gap = colour_difference(classes, colours)
    if pair:
        if "grayscale" in active:
            out.append(
                Advice("grayscale", f"{pair}: without colour they are harder to tell apart.")
            )
        limit = gap / 4
        if "hue_saturation" in active and cfg.hue_saturation.hue_degrees >= limit:
            out.append(
                Advice(
                    "hue_saturation",
                    f"{pair}: a hue shift of ±{cfg.hue_saturation.hue_degrees:.0f}° moves one "
                    f"class towards the other's colour. Keep it under {limit:.0f}°.",
                )
            )
    if "zoom" in active and cfg.zoom.min_area < MIN_SAFE_AREA:
        out.append(
            Advice(
                "zoom",
                f"Crops as small as {cfg.zoom.min_area:.0%} of the image may cut the object "
                f"away, and the label is then wrong. Keep min area at {MIN_SAFE_AREA} or more "
                "unless objects fill the frame.",
            )
        )
    return out


def orientation_reason(
    classes: Sequence[str], colours: Mapping[str, ColourStats] | None = None
) -> str:
    """Why orientation matters for these classes, or ``""`` if nothing suggests it."""
    words = [set(re.split(r"[^a-z0-9]+", name.lower())) - {""} for name in classes]
    flat = set().union(*words) if words else set()
    digits = sum(1 for w in words if w & DIGIT_WORDS or any(t.isdigit() for t in w))
    if classes and digits >= max(2, len(classes) // 2):
        return "Your classes look like digits"
    if flat & TEXT_WORDS:
        return "Your classes look like text or digits"
    letters = sum(1 for name in classes if len(name.strip()) == 1 and name.strip().isalpha())
    if classes and letters >= max(2, len(classes) // 2):
        return "Your classes look like letters"
    if flat & DIRECTION_WORDS:
        return "Your class names mention directions"
    if colours and len(colours) >= 2:
        inky = [c for c in colours.values() if c.ink > 0.6 and c.saturation < 0.05]
        if len(inky) == len(colours):
            return "Your images look like black-and-white text or scans"
    return ""


def colour_difference(
    classes: Sequence[str], colours: Mapping[str, ColourStats] | None = None
) -> tuple[str, float]:
    """A sentence naming classes that differ by colour (or ``""``), and the smallest hue gap
    in degrees between such classes."""
    named = [name for name in classes if set(re.split(r"[^a-z]+", name.lower())) & COLOUR_WORDS]
    if len(named) >= 2:
        return f"Your classes are named by colour ({', '.join(named[:3])})", 2 * HUE_GAP
    if not colours:
        return "", 0.0
    vivid = [(n, c) for n, c in colours.items() if c.saturation >= SATURATED]
    best: tuple[float, str, str] | None = None
    for i, (a, ca) in enumerate(vivid):
        for b, cb in vivid[i + 1 :]:
            gap = abs(ca.hue - cb.hue) % 360
            gap = min(gap, 360 - gap)
            if gap >= HUE_GAP and (best is None or gap < best[0]):
                best = (gap, a, b)
    if best is None:
        return "", 0.0
    return f"'{best[1]}' and '{best[2]}' differ by colour ({best[0]:.0f}° of hue apart)", best[0]
