"""Folder layouts, de-duplication and the stratified split."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import make_dataset

from studio.engine.data.index import scan_folders, stratified_split, trainable_index
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


def test_split_is_stratified_and_repeatable():
    labels = [0] * 50 + [1] * 10
    train, val = stratified_split(labels, 0.2, seed=3)
    assert sorted(train + val) == list(range(60))
    assert sum(labels[i] == 0 for i in val) == 10 and sum(labels[i] == 1 for i in val) == 2
    assert stratified_split(labels, 0.2, seed=3) == (train, val)
    assert stratified_split(labels, 0.2, seed=4) != (train, val)


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
