"""The data health report: what is wrong with a dataset before it is trained on.

:func:`check_health` reads every file once (content hash, full decode, perceptual hash) and
reports per-class counts, unreadable files with their reason, exact duplicates (within a class,
across classes = conflicting labels, across given splits = leakage), near-duplicate groups,
empty and too-small classes, class imbalance and image size statistics. It is a plain
function: it honours a stop token and streams :class:`CheckProgress` events. Nothing is written.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from studio.engine.control import StopToken
from studio.engine.data.images import ImageError, ImageInfo, inspect, looks_alike
from studio.engine.data.index import DatasetIndex
from studio.engine.events import CheckProgress, EventSink

IMBALANCE_RATIO = 3.0
MIN_PER_CLASS = 2  # one to train on, one to validate with
NEAR_DISTANCE = 4  # differing bits of 64 for a near-duplicate
SIZE_CHOICES = (32, 48, 64, 96, 128, 160, 192, 224)
UNREADABLE_KINDS = (
    "empty",
    "truncated",
    "not_an_image",
    "decompression_bomb",
    "unsupported",
    "unreadable",
    "missing",
)
PROBLEM_KINDS = (
    *UNREADABLE_KINDS,
    "duplicate",
    "conflicting_labels",
    "leakage",
    "near_duplicate",
    "empty_class",
    "too_few_images",
    "imbalance",
    "single_class",
)


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    """One finding: the file or class folder it is about, a kind tag and plain words."""

    path: str
    kind: str
    detail: str


@dataclasses.dataclass(frozen=True, slots=True)
class SizeStats:
    """Upright pixel sizes of the readable images and the training size they suggest."""

    min_width: int
    median_width: int
    max_width: int
    min_height: int
    median_height: int
    max_height: int
    suggested_size: int


@dataclasses.dataclass(frozen=True)
class HealthReport:
    """Everything :func:`check_health` found; :meth:`to_dict` is the ``--json`` form."""

    classes: dict[str, int]
    problems: list[Problem]
    sizes: SizeStats | None
    duplicate_groups: list[list[str]]
    near_duplicate_groups: list[list[str]]
    files: int
    checked: int
    cancelled: bool = False
    digests: dict[Path, str] = dataclasses.field(default_factory=dict, repr=False)

    @property
    def unreadable(self) -> set[Path]:
        return {Path(p.path) for p in self.problems if p.kind in UNREADABLE_KINDS}

    def kinds_by_path(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for problem in self.problems:
            out.setdefault(problem.path, set()).add(problem.kind)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "classes": dict(self.classes),
            "problems": [dataclasses.asdict(p) for p in self.problems],
            "sizes": dataclasses.asdict(self.sizes) if self.sizes else None,
            "duplicate_groups": self.duplicate_groups,
            "near_duplicate_groups": self.near_duplicate_groups,
            "files": self.files,
            "checked": self.checked,
            "cancelled": self.cancelled,
        }


def check_health(
    index: DatasetIndex,
    sink: EventSink | None = None,
    token: StopToken | None = None,
    read_files: bool = True,
) -> HealthReport:
    """Check ``index``. With ``read_files=False`` only the folder structure is judged (no
    decoding or hashing: fast). A stop request returns what was found so far, ``cancelled``."""
    token = token or StopToken()
    infos: dict[int, ImageInfo] = {}
    problems: list[Problem] = [
        Problem(str(p), "unsupported", "picture format Studio cannot read: convert it to JPEG/PNG")
        for p in index.unsupported
    ]
    cancelled = False
    total = len(index.paths) if read_files else 0
    done = 0
    last = time.perf_counter()
    for i in range(total):
        if token.should_stop():
            cancelled = True
            break
        path = index.paths[i]
        try:
            infos[i] = inspect(path)
        except ImageError as exc:
            problems.append(Problem(str(path), exc.reason, exc.detail))
        done = i + 1
        now = time.perf_counter()
        if sink is not None and now - last > 0.1:
            sink(CheckProgress(done=done, total=total))
            last = now
    if sink is not None and read_files:
        sink(CheckProgress(done=done, total=total))
    bad = {p.path for p in problems}
    usable = [
        i
        for i in range(len(index.paths))
        if (i in infos if read_files else True) and str(index.paths[i]) not in bad
    ]
    counts = {name: 0 for name in index.classes}
    for i in usable:
        counts[index.classes[index.labels[i]]] += 1
    for name in index.empty_classes:
        counts.setdefault(name, 0)
    duplicate_groups = _exact_duplicates(index, infos, problems)
    near_groups = _near_duplicates(index, infos, problems)
    problems.extend(_class_problems(index, counts))
    return HealthReport(
        classes=dict(sorted(counts.items())),
        problems=problems,
        sizes=_size_stats([infos[i] for i in usable if i in infos]),
        duplicate_groups=duplicate_groups,
        near_duplicate_groups=near_groups,
        files=len(index.paths) + len(index.unsupported),
        checked=done,
        cancelled=cancelled,
        digests={index.paths[i]: info.digest for i, info in infos.items()},
    )


def _exact_duplicates(
    index: DatasetIndex, infos: dict[int, ImageInfo], problems: list[Problem]
) -> list[list[str]]:
    groups: dict[str, list[int]] = {}
    for i, info in infos.items():
        groups.setdefault(info.digest, []).append(i)
    found: list[list[str]] = []
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort()
        found.append([str(index.paths[i]) for i in members])
        names = {index.classes[index.labels[i]] for i in members}
        splits = {index.splits[i] for i in members} if index.splits else {""}
        if len(names) > 1:
            for i in members:
                others = ", ".join(
                    f"{index.paths[j].name} ({index.classes[index.labels[j]]})"
                    for j in members
                    if j != i
                )
                problems.append(
                    Problem(
                        str(index.paths[i]),
                        "conflicting_labels",
                        f"the same image is also labelled as: {others}",
                    )
                )
        elif len(splits) > 1:
            where = " and ".join(sorted(s or "no split" for s in splits))
            for i in members:
                problems.append(
                    Problem(
                        str(index.paths[i]),
                        "leakage",
                        f"the same image is in {where}: validation accuracy looks better than "
                        "it is",
                    )
                )
        else:
            first = index.paths[members[0]]
            for i in members[1:]:
                problems.append(
                    Problem(str(index.paths[i]), "duplicate", f"same content as {first.name}")
                )
    return found


def _near_duplicates(
    index: DatasetIndex, infos: dict[int, ImageInfo], problems: list[Problem]
) -> list[list[str]]:
    """Groups of different files whose perceptual hashes differ in few bits. Pigeonhole: two
    hashes within ``NEAR_DISTANCE`` bits agree on at least one of ``NEAR_DISTANCE + 1`` bands,
    so only files sharing a band value are compared."""
    first_of: dict[str, int] = {}
    for i in sorted(infos):
        first_of.setdefault(infos[i].digest, i)
    reps = list(first_of.values())
    parent = {i: i for i in reps}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    bands = NEAR_DISTANCE + 1
    width = -(-64 // bands)
    for band in range(bands):
        shift = band * width
        buckets: dict[int, list[int]] = {}
        for i in reps:
            buckets.setdefault((infos[i].dhash >> shift) & ((1 << width) - 1), []).append(i)
        for bucket in buckets.values():
            for a_pos, a in enumerate(bucket):
                for b in bucket[a_pos + 1 :]:
                    close = (infos[a].dhash ^ infos[b].dhash).bit_count() <= NEAR_DISTANCE
                    if close and looks_alike(infos[a], infos[b]):
                        parent[find(b)] = find(a)
    clusters: dict[int, list[int]] = {}
    for i in reps:
        clusters.setdefault(find(i), []).append(i)
    groups: list[list[str]] = []
    for members in clusters.values():
        if len(members) < 2:
            continue
        members.sort()
        groups.append([str(index.paths[i]) for i in members])
        first = index.paths[members[0]]
        for i in members[1:]:
            problems.append(
                Problem(
                    str(index.paths[i]), "near_duplicate", f"looks almost the same as {first.name}"
                )
            )
    return groups


def _class_problems(index: DatasetIndex, counts: dict[str, int]) -> list[Problem]:
    found: list[Problem] = []

    def folder(name: str) -> str:
        return str(index.folders.get(name, [Path(name)])[0])

    for name in index.empty_classes:
        found.append(Problem(folder(name), "empty_class", f"class {name!r} has no images"))
    present = {name: n for name, n in counts.items() if n > 0}
    for name, n in present.items():
        if n < MIN_PER_CLASS:
            found.append(
                Problem(
                    folder(name),
                    "too_few_images",
                    f"class {name!r} has {n} usable image: too few to split into training "
                    f"and validation (at least {MIN_PER_CLASS})",
                )
            )
    if len(present) == 1:
        only = next(iter(present))
        found.append(
            Problem(folder(only), "single_class", "only one class: a classifier needs at least 2")
        )
    if len(present) >= 2:
        big = max(present, key=lambda k: present[k])
        small = min(present, key=lambda k: present[k])
        ratio = present[big] / present[small]
        if ratio > IMBALANCE_RATIO:
            found.append(
                Problem(
                    folder(small),
                    "imbalance",
                    f"{big!r} has {present[big]} images, {ratio:.1f}x {small!r} "
                    f"({present[small]}): add images to the small classes or train with "
                    "weighted sampling/loss",
                )
            )
    return found


def _size_stats(infos: Sequence[ImageInfo]) -> SizeStats | None:
    if not infos:
        return None
    widths = [info.width for info in infos]
    heights = [info.height for info in infos]
    short = statistics.median(min(w, h) for w, h in zip(widths, heights, strict=True))
    fitting = [size for size in SIZE_CHOICES if size <= short]
    return SizeStats(
        min_width=min(widths),
        median_width=round(statistics.median(widths)),
        max_width=max(widths),
        min_height=min(heights),
        median_height=round(statistics.median(heights)),
        max_height=max(heights),
        suggested_size=fitting[-1] if fitting else SIZE_CHOICES[0],
    )
