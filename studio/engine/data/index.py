"""Scan image folders into a labelled index, split it, and serve it to torch.

Layouts: a folder with images directly inside is one class, named after the folder (images
in its nested subfolders belong to it too); a folder without direct images is a root whose
subfolders are the classes; a root whose subfolders are ``train/``, ``val|valid|validation/``
and ``test/`` holds class folders in each, used as given splits. Folders with the same class
name merge. A file reached twice
(symlinks, a folder dropped twice) counts once and symlink loops are not followed. Hidden
files and folders, ``__MACOSX`` and non-image files are skipped. Nothing is ever written.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from studio.engine.control import Stopped, StopToken
from studio.engine.data.images import is_image_file, is_unsupported_image, probe
from studio.errors import StudioError

SKIPPED_DIRS = frozenset({"__MACOSX", "$RECYCLE.BIN", "System Volume Information"})
SPLIT_FOLDERS = {
    "train": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "test": "test",
}


@dataclasses.dataclass(frozen=True)
class DatasetIndex:
    """Every usable image file with its class; ``labels[i]`` indexes ``classes``.

    ``splits[i]`` is the split the folders gave (``train``/``val``/``test``) or ``""``; the
    list is empty when no folder gave one. ``folders`` maps each class to its folders,
    ``empty_classes`` lists class folders without images and ``unsupported`` files in
    picture formats Studio cannot read (HEIC…).
    """

    classes: list[str]
    paths: list[Path]
    labels: list[int]
    splits: list[str] = dataclasses.field(default_factory=list)
    folders: dict[str, list[Path]] = dataclasses.field(default_factory=dict)
    empty_classes: list[str] = dataclasses.field(default_factory=list)
    unsupported: list[Path] = dataclasses.field(default_factory=list)

    @property
    def given_splits(self) -> bool:
        return any(self.splits)

    def subset(self, keep: Sequence[int]) -> DatasetIndex:
        """The same index restricted to the files at positions ``keep`` (classes unchanged)."""
        return dataclasses.replace(
            self,
            paths=[self.paths[i] for i in keep],
            labels=[self.labels[i] for i in keep],
            splits=[self.splits[i] for i in keep] if self.splits else [],
        )

    @property
    def counts(self) -> dict[str, int]:
        tally = Counter(self.labels)
        return {name: tally.get(i, 0) for i, name in enumerate(self.classes)}

    def __len__(self) -> int:
        return len(self.paths)


def scan_folders(
    folders: Iterable[str | Path],
    token: StopToken | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DatasetIndex:
    """Index the images under ``folders`` (see the module docstring for the layouts).
    ``progress(done, total)`` counts class folders read; ``token`` may stop the scan between
    folders (raises :class:`~studio.engine.control.Stopped`)."""
    by_class: dict[str, list[tuple[Path, str]]] = {}
    class_dirs: dict[str, list[Path]] = {}
    seen_files: set[tuple[int, int]] = set()
    unsupported: list[Path] = []
    found: list[tuple[str, str, Path]] = []
    for folder in folders:
        root = Path(folder).expanduser()
        _require_readable(root)
        found.extend(_class_folders(root))
    for done, (split, name, directory) in enumerate(found):
        if token is not None and token.should_stop():
            raise Stopped("scan cancelled")
        if progress is not None:
            progress(done, len(found))
        files = by_class.setdefault(name, [])
        class_dirs.setdefault(name, []).append(directory)
        for path, key in _walk_images(directory, unsupported):
            if key not in seen_files:
                seen_files.add(key)
                files.append((path, split))
    if progress is not None:
        progress(len(found), len(found))
    classes = sorted(name for name, files in by_class.items() if files)
    paths: list[Path] = []
    labels: list[int] = []
    splits: list[str] = []
    for label, name in enumerate(classes):
        for path, split in sorted(by_class[name]):
            paths.append(path)
            labels.append(label)
            splits.append(split)
    return DatasetIndex(
        classes=classes,
        paths=paths,
        labels=labels,
        splits=splits if any(splits) else [],
        folders=class_dirs,
        empty_classes=sorted(name for name, files in by_class.items() if not files),
        unsupported=sorted(set(unsupported)),
    )


def _require_readable(root: Path) -> None:
    """Raise a one-line :class:`StudioError` unless ``root`` is a folder we may list."""
    if not root.is_dir():
        raise StudioError(f"Folder not found: {root}")
    try:
        with os.scandir(root) as it:
            next(it, None)
    except PermissionError:
        raise StudioError(f"Permission denied: cannot read the folder {root}") from None
    except OSError as exc:
        raise StudioError(f"Cannot read the folder {root}: {exc.strerror or exc}") from None


def require_trainable(index: DatasetIndex, sources: Sequence[str | Path]) -> None:
    """Raise a plain-words :class:`StudioError` unless ``index`` can be trained on."""
    where = ", ".join(str(s) for s in sources) or "(no folder given)"
    if len(index) == 0:
        raise StudioError(
            f"No images found in {where}. Studio reads JPEG, PNG, BMP, GIF, TIFF "
            "and WebP files, one subfolder per class."
        )
    present = [name for name, count in index.counts.items() if count]
    if len(present) < 2:
        only = present[0] if present else "none"
        raise StudioError(
            f"Found only 1 class ({only}) in {where}. A classifier needs at least "
            "2 classes: put each class's images in its own subfolder."
        )


@dataclasses.dataclass(frozen=True)
class Edits:
    """The user's changes kept in the project (files untouched): images and classes left
    out, classes renamed (``class_names`` maps folder name to new name; same new name
    merges classes), and images relabelled (``relabeled_files`` maps an image to the class
    it belongs to, by its shown or its folder name; to an excluded or unknown class, it is
    left out)."""

    excluded_files: frozenset[Path] = frozenset()
    excluded_classes: frozenset[str] = frozenset()
    class_names: dict[str, str] = dataclasses.field(default_factory=dict)
    relabeled_files: dict[Path, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, data: Any) -> Edits:
        """From a :class:`~studio.config.schema.DataConfig`."""
        return cls(
            frozenset(Path(p) for p in data.excluded_files),
            frozenset(data.excluded_classes),
            dict(data.class_names),
            {Path(p): str(c) for p, c in data.relabeled_files.items()},
        )

    def apply(self, index: DatasetIndex) -> DatasetIndex:
        if not (
            self.excluded_files or self.excluded_classes or self.class_names or self.relabeled_files
        ):
            return index
        names = {c: self.class_names.get(c, c) for c in index.classes}
        classes = sorted({names[c] for c in index.classes if c not in self.excluded_classes})
        number = {name: i for i, name in enumerate(classes)}

        def target(i: int) -> str | None:
            """The class image ``i`` trains as (its folder's, or the one it was moved to), or
            ``None`` when it is left out."""
            moved = self.relabeled_files.get(index.paths[i])
            if moved is None:
                folder = index.classes[index.labels[i]]
                return None if folder in self.excluded_classes else names[folder]
            moved = moved if moved in number else names.get(moved, moved)
            return moved if moved in number else None

        keep = [
            i
            for i, path in enumerate(index.paths)
            if path not in self.excluded_files and target(i) is not None
        ]
        folders: dict[str, list[Path]] = {}
        for old, dirs in index.folders.items():
            if old not in self.excluded_classes:
                folders.setdefault(self.class_names.get(old, old), []).extend(dirs)
        return dataclasses.replace(
            index.subset(keep),
            classes=classes,
            labels=[number[target(i)] for i in keep],  # type: ignore[index]
            folders=folders,
            empty_classes=[c for c in index.empty_classes if c not in self.excluded_classes],
        )


def trainable_index(
    sources: Sequence[str | Path], edits: Edits | None = None
) -> tuple[DatasetIndex, int]:
    """Scan ``sources``, apply the user's ``edits``, drop files whose header cannot be read,
    and check the rest can be trained on. Returns the index and how many files were skipped."""
    index = scan_folders(sources)
    if edits is not None:
        index = edits.apply(index)
    usable = usable_index(index, sources)
    assert usable is not None  # no token: never stopped
    return usable


def usable_index(
    index: DatasetIndex,
    sources: Sequence[str | Path],
    require: bool = True,
    token: StopToken | None = None,
) -> tuple[DatasetIndex, int] | None:
    """``index`` without the files whose header cannot be read, and how many were left out.

    ``require`` raises a one-line :class:`StudioError` unless the index can be trained on
    (checked before reading any header, and after). ``None`` when ``token`` asked to stop.
    """
    if require:
        require_trainable(index, sources)
    keep = []
    for i, path in enumerate(index.paths):
        if token is not None and token.should_stop():
            return None
        if probe(path) is None:
            keep.append(i)
    if require and not keep:
        raise StudioError(
            "None of the images could be read: every file is broken or in an unsupported format."
        )
    usable = index.subset(keep)
    if require:
        require_trainable(usable, sources)
    return usable, len(index) - len(keep)


def _class_folders(root: Path) -> list[tuple[str, str, Path]]:
    """``(given split or "", class name, folder)`` for each class folder under ``root``."""
    entries = _entries(root)
    if any(is_image_file(Path(e.path)) for e in entries if _is_file(e)):
        return [("", root.resolve().name, root)]
    subdirs = [e for e in entries if _is_dir(e)]
    splits = [SPLIT_FOLDERS.get(e.name.lower()) for e in subdirs]
    if subdirs and all(splits) and "train" in splits:
        return [
            (split or "", Path(c.path).name, Path(c.path))
            for e, split in zip(subdirs, splits, strict=True)
            for c in _entries(Path(e.path))
            if _is_dir(c)
        ]
    return [("", Path(e.path).name, Path(e.path)) for e in subdirs]


def _walk_images(top: Path, unsupported: list[Path]) -> Iterable[tuple[Path, tuple[int, int]]]:
    """Image files under ``top`` with a key naming the file itself (device, inode), so a file
    reached twice counts once; pictures in unsupported formats are collected aside."""
    visited: set[tuple[int, int]] = set()
    stack = [top]
    while stack:
        directory = stack.pop()
        try:
            info = directory.stat()
        except OSError:
            continue
        if (info.st_dev, info.st_ino) in visited:  # symlink loop or folder seen twice
            continue
        visited.add((info.st_dev, info.st_ino))
        for entry in _entries(directory):
            if _is_dir(entry):
                stack.append(Path(entry.path))
                continue
            path = Path(entry.path)
            if not is_image_file(path):
                if is_unsupported_image(path) and _is_file(entry):
                    unsupported.append(path)
                continue
            try:
                if entry.is_symlink():
                    target = entry.stat()
                    if not stat.S_ISREG(target.st_mode):
                        continue
                    key = (target.st_dev, target.st_ino)
                elif entry.is_file(follow_symlinks=False):
                    key = (info.st_dev, entry.inode())
                else:
                    continue
            except OSError:  # dangling symlink, vanished file
                continue
            yield path, key


def _entries(directory: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as it:
            return sorted(
                (e for e in it if not e.name.startswith(".") and e.name not in SKIPPED_DIRS),
                key=lambda e: e.name,
            )
    except OSError:
        return []


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False
