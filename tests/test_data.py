"""Folder layouts, de-duplication and the one split of the edited index."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import make_dataset

from studio.config import DataConfig
from studio.engine.control import StopToken
from studio.engine.data.index import scan_folders, trainable_index
from studio.engine.data.splits import split_dataset
from studio.errors import StudioError


def test_root_of_class_folders(dataset: Path):
    index = scan_folders([dataset])
    assert index.classes == ["birds", "cats", "dogs"]
    assert index.counts == {"birds": 12, "cats": 12, "dogs": 12}


def test_several_class_folders_and_merging(dataset: Path, tmp_path: Path):
    extra = make_dataset(tmp_path / "more", per_class=2, classes={"cats": (1, 2, 3)})
    index = scan_folders([dataset / "cats", dataset / "dogs", extra / "cats"])
    assert index.counts == {"cats": 14, "dogs": 12}


def test_nested_images_belong_to_their_class_and_junk_is_skipped(dataset: Path):
    nested = dataset / "cats" / "2024" / "summer"
    nested.mkdir(parents=True)
    (dataset / "cats" / "cats_00.png").rename(nested / "deep.png")
    (dataset / "cats" / "notes.txt").write_text("hello")
    (dataset / "cats" / ".hidden.png").write_bytes(b"x")
    (dataset / "__MACOSX").mkdir()
    (dataset / "__MACOSX" / "x.png").write_bytes(b"x")
    assert scan_folders([dataset]).counts == {"birds": 12, "cats": 12, "dogs": 12}


def test_symlinks_count_once_and_loops_end(dataset: Path):
    os.symlink(dataset / "cats", dataset / "cats" / "again")  # a loop
    os.symlink(dataset / "dogs" / "dogs_00.png", dataset / "dogs" / "alias.png")
    index = scan_folders([dataset, dataset])  # dropped twice, too
    assert index.counts == {"birds": 12, "cats": 12, "dogs": 12}


def test_one_split_of_the_edited_index(dataset: Path):
    (dataset / "cats" / "broken.jpg").write_text("oops")
    data = DataConfig(
        sources=[dataset],
        val_fraction=0.25,
        excluded_files=[dataset / "cats" / "cats_00.png"],
        excluded_classes=["birds"],
        class_names={"dogs": "puppies"},
    )
    seen: list[tuple[int, int]] = []
    split = split_dataset(data, seed=3, progress=lambda done, total: seen.append((done, total)))
    assert split.index.classes == ["cats", "puppies"] and split.skipped == 1
    assert len(split.index) == 23 and dataset / "cats" / "cats_00.png" not in split.split_of()
    assert seen[-1] == (23, 23)
    counts = split.counts()
    assert sum(counts["cats"].values()) == 11 and sum(counts["puppies"].values()) == 12
    assert all(c["val"] >= 1 and c["train"] >= 1 for c in counts.values())
    assert split_dataset(data, seed=3) == split  # repeatable
    assert split_dataset(data, seed=4).assigned != split.assigned
    # the scanned index and the health check's digests give the same split, without re-reading
    known = dict(zip(split.index.paths, split.keys, strict=True))
    assert split_dataset(data, 3, index=scan_folders([dataset]), known=known) == split
    stopped = StopToken()
    stopped.stop()
    assert split_dataset(data, 3, token=stopped) is None
    with pytest.raises(StudioError, match="only 1 class"):
        split_dataset(
            data.model_copy(update={"excluded_classes": ["birds", "cats"]}), 3, require=True
        )


def test_bad_data_is_explained(tmp_path: Path, dataset: Path):
    with pytest.raises(StudioError, match="Folder not found"):
        trainable_index([tmp_path / "nope"])
    with pytest.raises(StudioError, match="only 1 class"):
        trainable_index([dataset / "cats"])
    broken = tmp_path / "broken"
    for name in ("a", "b"):
        (broken / name).mkdir(parents=True)
        (broken / name / "x.jpg").write_text("not an image")
    with pytest.raises(StudioError, match="could be read"):
        trainable_index([broken])


def test_unreadable_files_are_skipped(dataset: Path):
    (dataset / "cats" / "broken.jpg").write_text("oops")
    index, skipped = trainable_index([dataset])
    assert skipped == 1 and len(index) == 36
