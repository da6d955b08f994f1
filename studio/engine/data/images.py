"""The one image decoder, shared by the browser, the augmentation preview and training.

Pillow alone gets several common files wrong; :func:`load_rgb` fixes each case:
EXIF orientation is applied, 16-bit and float images are scaled (not clipped) to 8 bits,
transparency is composited on a neutral grey, CMYK/palette/grey become RGB, truncated
files are detected by decoding them fully, and decompression bombs are refused before
their pixels are allocated.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import warnings
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"})
MAX_PIXELS = 89_478_485  # Pillow's own bomb threshold (about 9,500 x 9,500)
BACKGROUND = (128, 128, 128)
ORIENTATION = 0x0112
HASH_DRAFT = 64  # JPEGs are decoded at 1/2..1/8 scale for hashing: still every byte is read
UNSUPPORTED_EXTENSIONS = frozenset({".heic", ".heif", ".avif", ".jxl", ".psd", ".svg", ".dng"})
UNSUPPORTED_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"mif1", b"msf1", b"avif", b"avis"})


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


def is_unsupported_image(path: Path) -> bool:
    """Whether the name is a picture format users meet that Studio cannot read (HEIC…)."""
    return path.suffix.lower() in UNSUPPORTED_EXTENSIONS and not path.name.startswith(".")


def load_rgb(
    path: str | Path, max_pixels: int = MAX_PIXELS, max_side: int | None = None
) -> np.ndarray:
    """Decode ``path`` into an ``H x W x 3`` uint8 RGB array, upright as the camera saw it.

    ``max_side`` lets JPEGs decode at a reduced scale (Pillow's ``draft``), for thumbnails.
    """
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            raise ImageError(path, "empty", "the file is empty")
    except FileNotFoundError as exc:
        raise ImageError(path, "missing", "the file no longer exists") from exc
    except OSError as exc:
        raise ImageError(path, "unreadable", f"cannot read: {exc.strerror or exc}") from exc
    rgb, _ = _decode(path, path, max_pixels, max_side)
    return rgb


@dataclasses.dataclass(frozen=True, slots=True)
class ImageInfo:
    """What the health check needs from one file: upright size, content hash, perceptual hash."""

    width: int
    height: int
    digest: str
    dhash: int
    thumb: bytes = b""  # 16x16 grey, to confirm that similar hashes mean similar pictures


def inspect(path: str | Path, max_pixels: int = MAX_PIXELS) -> ImageInfo:
    """Read ``path`` once: hash its bytes, decode them fully (JPEGs at a reduced scale, which
    still reads every byte so truncation shows) and compute a 64-bit difference hash."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ImageError(path, "missing", "the file no longer exists") from exc
    except OSError as exc:
        raise ImageError(path, "unreadable", f"cannot read: {exc.strerror or exc}") from exc
    if not data:
        raise ImageError(path, "empty", "the file is empty")
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    rgb, (width, height) = _decode(path, io.BytesIO(data), max_pixels, HASH_DRAFT)
    grey = Image.fromarray(rgb).convert("L")
    thumb = grey.resize((THUMB_SIDE, THUMB_SIDE), Image.Resampling.BOX).tobytes()
    return ImageInfo(width=width, height=height, digest=digest, dhash=dhash(rgb), thumb=thumb)


THUMB_SIDE = 16


def looks_alike(a: ImageInfo, b: ImageInfo, tolerance: float = 6.0) -> bool:
    """Whether two pictures' small grey thumbnails differ by at most ``tolerance`` grey
    levels on average: a re-saved or resized copy does; two handwritten 7s do not."""
    if len(a.thumb) != len(b.thumb) or not a.thumb:
        return False
    x = np.frombuffer(a.thumb, dtype=np.uint8).astype(np.int16)
    y = np.frombuffer(b.thumb, dtype=np.uint8).astype(np.int16)
    return float(np.abs(x - y).mean()) <= tolerance


def dhash(rgb: np.ndarray) -> int:
    """64-bit difference hash: whether each of 8x8 grey cells is brighter than its right
    neighbour. Near-identical pictures differ in a few bits (Hamming distance)."""
    grey = Image.fromarray(rgb).convert("L").resize((9, 8), Image.Resampling.BOX)
    cells = np.asarray(grey, dtype=np.int16)
    bits = np.packbits((cells[:, 1:] > cells[:, :-1]).reshape(-1))
    return int.from_bytes(bits.tobytes(), "big")


def _decode(
    path: Path, source: Path | IO[bytes], max_pixels: int, max_side: int | None
) -> tuple[np.ndarray, tuple[int, int]]:
    """Decode ``source`` (the file or its bytes); returns RGB and the full upright size."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(source)
        with image:
            width, height = image.size
            if width * height > max_pixels:
                raise ImageError(
                    path,
                    "decompression_bomb",
                    f"{width}x{height} pixels is over the {max_pixels:,}-pixel limit",
                )
            if image.getexif().get(ORIENTATION, 1) in {5, 6, 7, 8}:
                width, height = height, width
            if max_side and image.format == "JPEG":
                image.draft(image.mode, (max_side, max_side))
            image.load()  # decodes everything: truncated files fail here, not in verify()
            return _to_rgb_array(ImageOps.exif_transpose(image)), (width, height)
    except ImageError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageError(path, "decompression_bomb", _bomb_detail(exc)) from exc
    except UnidentifiedImageError as exc:
        raise _unidentified(path, source) from exc
    except FileNotFoundError as exc:
        raise ImageError(path, "missing", "the file no longer exists") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        text = str(exc)
        if "truncated" in text or "broken data stream" in text:
            raise ImageError(path, "truncated", "the file is truncated") from exc
        if "not available" in text or "unsupported" in text.lower() or "not supported" in text:
            raise ImageError(path, "unsupported", f"unsupported variant: {text}") from exc
        raise ImageError(path, "unreadable", f"cannot decode: {text}") from exc


def _bomb_detail(exc: Exception) -> str:
    """Pillow's bomb message, minus its alarm: the header claims too many pixels."""
    return str(exc).split(", could be")[0].rstrip(".") + " (a decompression bomb?)"


def _unidentified(path: Path, source: Path | IO[bytes]) -> ImageError:
    """``not_an_image``, or ``unsupported`` for a real image format Pillow cannot read."""
    try:
        if isinstance(source, Path):
            with source.open("rb") as handle:
                head = handle.read(32)
        else:
            source.seek(0)
            head = source.read(32)
    except OSError:
        head = b""
    if head[4:8] == b"ftyp" and head[8:12] in UNSUPPORTED_BRANDS:
        return ImageError(path, "unsupported", "HEIC/AVIF images are not supported: convert them")
    return ImageError(path, "not_an_image", "not an image Studio can read")


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


def header_size(path: str | Path) -> tuple[int, int] | None:
    """``(width, height)`` from the header (no pixel decode); ``None`` for a file that
    cannot be opened or is too large to decode."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
    except (Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        return None  # UnidentifiedImageError is an OSError
    return (width, height) if width * height <= MAX_PIXELS else None


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
        return ImageError(path, "decompression_bomb", _bomb_detail(exc))
    except UnidentifiedImageError:
        return _unidentified(path, path)
    except (OSError, SyntaxError, ValueError) as exc:
        return ImageError(path, "unreadable", f"cannot open: {exc}")
    return None
