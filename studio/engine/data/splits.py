"""Stable, seeded train/validation/test splits.

Each file's split follows from a hash of its content key and the seed, so adding images never
moves existing ones, identical files (same key) always share a split, and the shares per class
come close to the requested fractions. Splits the folders gave (``train/``, ``val/``,
``test/``) are kept; a missing validation split is carved out of ``train`` the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

from studio.engine.control import StopToken

SPLITS = ("train", "val", "test")
_CHUNK = 1 << 20


def content_key(path: Path) -> str:
    """A hash of the file's bytes (the same digest the health check uses)."""
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def quick_key(path: Path) -> str:
    """A key without reading the file: its path and size (no duplicate detection)."""
    try:
        size = path.stat().st_size
    except OSError:
        size = -1
    return f"{path}:{size}"


def content_keys(
    paths: Sequence[Path],
    token: StopToken | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[str] | None:
    """:func:`content_key` of every file (unreadable ones fall back to :func:`quick_key`);
    ``None`` when ``token`` asked to stop."""
    keys: list[str] = []
    for i, path in enumerate(paths):
        if token is not None and token.should_stop():
            return None
        try:
            keys.append(content_key(path))
        except OSError:
            keys.append(quick_key(path))
        if progress is not None and i % 256 == 255:
            progress(i + 1)
    return keys


def assign_splits(
    keys: Sequence[str],
    labels: Sequence[int],
    given: Sequence[str],
    val_fraction: float,
    test_fraction: float,
    seed: int,
) -> list[str]:
    """The split (``train``/``val``/``test``) of each file.

    ``given`` holds the folders' split per file (``""`` or an empty list for none). Every
    class keeps at least one training file (the highest-ranked key), and a class with two or
    more files gets at least one validation file (the lowest-ranked key): only these
    fix-ups of tiny classes can ever move a file when images are added.
    """
    given = list(given) or [""] * len(keys)
    has_given_val = "val" in given
    units = [_unit(key, seed) for key in keys]
    out: list[str] = []
    for unit, split in zip(units, given, strict=True):
        if split in ("val", "test") or (split == "train" and has_given_val):
            out.append(split)
        elif split == "train":
            out.append("val" if unit < val_fraction else "train")
        elif unit < test_fraction:
            out.append("test")
        elif unit < test_fraction + val_fraction:
            out.append("val")
        else:
            out.append("train")
    _ensure_training(keys, labels, units, given, out)
    if val_fraction > 0 and not has_given_val:
        _ensure_validation(keys, labels, units, out)
    return out


def _ensure_training(
    keys: Sequence[str],
    labels: Sequence[int],
    units: Sequence[float],
    given: Sequence[str],
    out: list[str],
) -> None:
    by_label: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        if given[i] in ("", "train"):
            by_label.setdefault(label, []).append(i)
    for members in by_label.values():
        if not any(out[i] == "train" for i in members):
            chosen = keys[max(members, key=lambda i: (units[i], keys[i]))]
            for i, key in enumerate(keys):
                if key == chosen and given[i] in ("", "train"):
                    out[i] = "train"


def _ensure_validation(
    keys: Sequence[str], labels: Sequence[int], units: Sequence[float], out: list[str]
) -> None:
    by_label: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    for members in by_label.values():
        trainable = [i for i in members if out[i] == "train"]
        if any(out[i] == "val" for i in members) or len(trainable) < 2:
            continue
        chosen = keys[min(trainable, key=lambda i: (units[i], keys[i]))]
        if all(keys[i] == chosen for i in trainable):
            continue  # one duplicate group: moving it would leave nothing to train on
        for i, key in enumerate(keys):
            if key == chosen and out[i] == "train":
                out[i] = "val"


def split_counts(
    classes: Sequence[str], labels: Sequence[int], assigned: Sequence[str]
) -> dict[str, dict[str, int]]:
    """``{class: {"train": n, "val": n, "test": n}}``."""
    counts = {name: dict.fromkeys(SPLITS, 0) for name in classes}
    for label, split in zip(labels, assigned, strict=True):
        counts[classes[label]][split] += 1
    return counts


def _unit(key: str, seed: int) -> float:
    """A number in [0, 1) fixed by the key and the seed."""
    digest = hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64
