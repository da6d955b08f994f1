"""Stable, seeded train/validation/test splits.

Each file's split follows from a hash of its content key and the seed, so adding images never
moves existing ones, identical files (same key) always share a split, and the shares per class
come close to the requested fractions. Splits the folders gave (``train/``, ``val/``,
``test/``) are kept; a missing validation split is carved out of ``train`` the same way.

:func:`split_dataset` is the one split every front end uses: the trainer, the augmentation
preview's training batch and the health tab's split summary all call it, so they agree file
for file.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from studio.engine.control import StopToken
from studio.engine.data.index import DatasetIndex, Edits, scan_folders, usable_index

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
    known: Mapping[Path, str] | None = None,
) -> list[str] | None:
    """:func:`content_key` of every file (unreadable ones fall back to :func:`quick_key`);
    ``None`` when ``token`` asked to stop. ``known`` holds digests already computed (the
    health check's), which are not read again."""
    keys: list[str] = []
    known = known or {}
    for i, path in enumerate(paths):
        if path in known:
            keys.append(known[path])
            continue
        if token is not None and token.should_stop():
            return None
        try:
            keys.append(content_key(path))
        except OSError:
            keys.append(quick_key(path))
        if progress is not None and i % 64 == 63:
            progress(i + 1)
    return keys


@dataclasses.dataclass(frozen=True)
class DataSplit:
    """The edited index (exclusions and renames applied, unreadable files left out) with each
    file's content key and split (``assigned[i]`` for ``index.paths[i]``)."""

    index: DatasetIndex
    keys: list[str]
    assigned: list[str]
    skipped: int = 0  # files left out because their header cannot be read

    def rows(self, split: str) -> list[int]:
        """Positions in :attr:`index` of the files in ``split``, in index order."""
        return [i for i, s in enumerate(self.assigned) if s == split]

    def counts(self) -> dict[str, dict[str, int]]:
        """``{class: {"train": n, "val": n, "test": n}}`` over the edited classes."""
        return split_counts(self.index.classes, self.index.labels, self.assigned)

    def totals(self) -> dict[str, int]:
        """Files per split."""
        return {split: self.assigned.count(split) for split in SPLITS}

    def split_of(self) -> dict[Path, str]:
        """Each file's split; files left out (excluded, unreadable) are absent."""
        return dict(zip(self.index.paths, self.assigned, strict=True))


def split_dataset(
    data: Any,
    seed: int,
    index: DatasetIndex | None = None,
    known: Mapping[Path, str] | None = None,
    token: StopToken | None = None,
    progress: Callable[[int, int], None] | None = None,
    require: bool = False,
) -> DataSplit | None:
    """The one split of a project's data: scan ``data.sources`` (or take the scanned
    ``index``), apply the user's edits, leave out files whose header cannot be read, hash
    every file's content (reusing the digests in ``known``) and assign each a split with
    ``data``'s fractions and ``seed``. ``data`` is a
    :class:`~studio.config.schema.DataConfig`.

    Hashing reads every file: it honours ``token`` (``None`` when stopped) and reports
    ``progress(done, total)``. ``require`` raises a one-line :class:`StudioError` unless the
    result can be trained on (before any file is hashed).
    """
    scanned = scan_folders(data.sources) if index is None else index
    found = usable_index(Edits.of(data).apply(scanned), data.sources, require, token)
    if found is None:
        return None
    usable, skipped = found
    total = len(usable.paths)
    keys = content_keys(
        usable.paths,
        token,
        None if progress is None else lambda done: progress(done, total),
        known,
    )
    if keys is None:
        return None
    if progress is not None:
        progress(total, total)
    assigned = assign_splits(
        keys, usable.labels, usable.splits, data.val_fraction, data.test_fraction, seed
    )
    return DataSplit(usable, keys, assigned, skipped)


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
