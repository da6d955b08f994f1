"""The one image decoder, shared by the browser, the augmentation preview and training.

Pillow alone gets several common files wrong; :func:`load_rgb` fixes each case:
EXIF orientation is applied, 16-bit and float images are scaled (not clipped) to 8 bits,
transparency is composited on a neutral grey, CMYK/palette/grey become RGB, truncated
files are detected by decoding them fully, and decompression bombs are refused before
their pixels are allocated.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"})
MAX_PIXELS = 89_478_485  # Pillow's own bomb threshold (about 9,500 x 9,500)
BACKGROUND = (128, 128, 128)


class ImageError(Exception):
    """A file that cannot be used as an image; ``reason`` is a short machine-readable tag."""

    def __init__(self, path: Path, reason: str, detail: str) -> None:
        super().__init__(f"{path.name}: {detail}")
        self.path = path
        self.reason = reason
        self.detail = detail


def is_image_file(path: Path) -> bool:
    """Whether the name looks like an image Studio reads (case-insensitive, no hidden files)."""
    return path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")


def load_rgb(path: str | Path, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode ``path`` into an ``H x W x 3`` uint8 RGB array, upright as the camera saw it."""
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            raise ImageError(path, "empty", "the file is empty")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
        with image:
            width, height = image.size
            if width * height > max_pixels:
                raise ImageError(
                    path,
                    "decompression_bomb",
                    f"{width}x{height} pixels is over the {max_pixels:,}-pixel limit",
                )
            image.load()  # decodes everything: truncated files fail here, not in verify()
            return _to_rgb_array(ImageOps.exif_transpose(image))
    except ImageError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageError(path, "decompression_bomb", str(exc)) from exc
    except UnidentifiedImageError as exc:
        raise ImageError(path, "not_an_image", "not an image Studio can read") from exc
    except FileNotFoundError as exc:
        raise ImageError(path, "missing", "the file no longer exists") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        text = str(exc)
        if "truncated" in text or "broken data stream" in text:
            raise ImageError(path, "truncated", "the file is truncated") from exc
        raise ImageError(path, "unreadable", f"cannot decode: {text}") from exc


def _to_rgb_array(image: Image.Image) -> np.ndarray:
    mode = image.mode
    if mode in {"I", "I;16", "I;16B", "I;16L", "I;16N", "F"}:
        grey = _scale_to_uint8(np.asarray(image), sixteen_bit=mode.startswith("I;16"))
        return np.repeat(grey[..., None], 3, axis=2)
    if mode == "P" or mode == "PA":
        image = image.convert("RGBA")
        mode = "RGBA"
    if mode in {"RGBA", "LA", "RGBa", "La"}:
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (*BACKGROUND, 255))
        return np.asarray(Image.alpha_composite(canvas, rgba).convert("RGB"))
    if mode == "1":
        image = image.convert("L")
    return np.asarray(image.convert("RGB"))


def _scale_to_uint8(data: np.ndarray, sixteen_bit: bool) -> np.ndarray:
    """Map 16-bit, 32-bit or float samples onto 0..255 without clipping."""
    data = data.astype(np.float64)
    if data.size == 0:
        return data.astype(np.uint8)
    high = float(data.max())
    if sixteen_bit:
        scale = 255.0 / 65535.0
    elif high <= 1.0 and float(data.min()) >= 0.0:
        scale = 255.0  # float images in 0..1
    elif high <= 255.0:
        scale = 1.0
    elif high <= 65535.0:
        scale = 255.0 / 65535.0
    else:
        scale = 255.0 / high
    return np.clip(np.rint(data * scale), 0, 255).astype(np.uint8)


def probe(path: str | Path) -> ImageError | None:
    """Cheap header check (no pixel decode): the error that makes ``path`` unusable, if any."""
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            return ImageError(path, "empty", "the file is empty")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
        if width * height > MAX_PIXELS:
            return ImageError(path, "decompression_bomb", f"{width}x{height} pixels is too large")
    except Image.DecompressionBombError as exc:
        return ImageError(path, "decompression_bomb", str(exc))
    except UnidentifiedImageError:
        return ImageError(path, "not_an_image", "not an image Studio can read")
    except (OSError, SyntaxError, ValueError) as exc:
        return ImageError(path, "unreadable", f"cannot open: {exc}")
    return None
