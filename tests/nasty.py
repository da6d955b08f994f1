"""A generated folder with every kind of file users really drop, and what Studio must say."""

from __future__ import annotations

import hashlib
import os
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

# (path relative to the root, problem kind) the health report must name: exactly these.
EXPECTED_PROBLEMS = {
    ("cats/truncated.jpg", "truncated"),
    ("cats/empty.jpg", "empty"),
    ("cats/notes.jpg", "not_an_image"),
    ("cats/photo.heic", "unsupported"),
    ("dogs/bomb.png", "decompression_bomb"),
    ("cats/copy_of_cat_0.png", "duplicate"),
    ("cats/shared.png", "conflicting_labels"),
    ("dogs/shared.png", "conflicting_labels"),
    ("dogs/near.png", "near_duplicate"),
    ("empty_class", "empty_class"),
    ("birds", "too_few_images"),
    ("birds", "imbalance"),
}
# usable images per class (readable, each file counted once)
EXPECTED_COUNTS = {"birds": 1, "cats": 8, "dogs": 9, "empty_class": 0}


def pattern(seed: int, size: int = 48) -> np.ndarray:
    """A blocky random RGB picture: different seeds give clearly different perceptual hashes."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(20, 235, size=(8, 8, 3), dtype=np.uint8)
    return np.kron(blocks, np.ones((size // 8, size // 8, 1), dtype=np.uint8))


def forged_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (valid CRCs)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


def make_nasty(root: Path) -> Path:
    """Build the nasty folder under ``root`` (a root of class folders) and return it."""
    cats, dogs, birds = root / "cats", root / "dogs", root / "birds"
    for folder in (cats, dogs, birds, root / "empty_class", cats / "2024" / "summer"):
        folder.mkdir(parents=True, exist_ok=True)
    for i in range(3):
        Image.fromarray(pattern(i)).save(cats / f"cat_{i}.png")
        Image.fromarray(pattern(10 + i)).save(dogs / f"dog_{i}.png")
    (cats / "copy_of_cat_0.png").write_bytes((cats / "cat_0.png").read_bytes())
    Image.fromarray(pattern(20)).save(cats / "ünïcødé 猫.png")
    Image.fromarray(pattern(21)).save(cats / "2024" / "summer" / "nested.PNG")
    Image.fromarray(pattern(22)).save(cats / ".hidden.png")
    Image.fromarray(pattern(23)).save(cats / "shared.png")
    (dogs / "shared.png").write_bytes((cats / "shared.png").read_bytes())
    rotated = Image.fromarray(pattern(24, size=64)[:, :32])
    exif = rotated.getexif()
    exif[0x0112] = 6
    rotated.save(cats / "rotated.JPG", exif=exif, quality=95)
    jpeg = cats / "whole.jpg"
    Image.fromarray(np.random.default_rng(5).integers(0, 255, (64, 64, 3), np.uint8)).save(jpeg)
    (cats / "truncated.jpg").write_bytes(jpeg.read_bytes()[: jpeg.stat().st_size // 2])
    jpeg.unlink()
    (cats / "empty.jpg").write_bytes(b"")
    (cats / "notes.jpg").write_text("these are my notes, not a picture")
    (cats / "photo.heic").write_bytes(b"\x00\x00\x00\x18ftypheic" + bytes(64))
    (cats / "readme.txt").write_text("not an image: skipped silently")
    os.symlink(cats, cats / "2024" / "loop")  # a symlink loop back to the class folder
    Image.fromarray(pattern(30)).convert("CMYK").save(dogs / "cmyk.jpg", quality=95)
    grey = pattern(31)[..., 0].astype(np.uint16) * 257
    Image.fromarray(grey).save(dogs / "deep16.png")
    with Image.open(dogs / "deep16.png") as check:
        assert check.mode.startswith("I")
    Image.fromarray(pattern(32)).convert("P", palette=Image.Palette.ADAPTIVE).save(
        dogs / "palette.gif"
    )
    alpha = np.dstack([pattern(33), np.full((48, 48), 200, np.uint8)])
    Image.fromarray(alpha, "RGBA").save(dogs / "alpha.png")
    near = np.clip(pattern(10).astype(np.int16) + 6, 0, 255).astype(np.uint8)
    Image.fromarray(near).save(dogs / "near.png")  # dog_0 a little brighter
    os.symlink(dogs / "dog_1.png", dogs / "alias.png")  # the same file twice: counts once
    (dogs / "bomb.png").write_bytes(forged_png(40_000, 40_000))
    Image.fromarray(pattern(40)).save(birds / "bird_0.webp")
    return root


def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under ``root`` with its type, mtime and content hash (links not followed)."""
    state: dict[str, tuple] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            info = path.lstat()
            digest = ""
            if path.is_file() and not path.is_symlink():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            state[str(path.relative_to(root))] = (info.st_mode, info.st_mtime_ns, digest)
    return state
