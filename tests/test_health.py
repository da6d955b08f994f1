"""The data health report, stable splits and ``studio scan`` on the generated nasty folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import make_dataset
from nasty import EXPECTED_COUNTS, EXPECTED_PROBLEMS, make_nasty, snapshot
from test_cli import studio

from studio.config import ProjectConfig
from studio.engine.control import StopToken
from studio.engine.data.health import check_health
from studio.engine.data.index import Edits, scan_folders
from studio.engine.data.splits import assign_splits, content_keys, split_counts
from studio.engine.events import CheckProgress, from_dict
from studio.errors import StudioError


@pytest.fixture
def nasty(tmp_path: Path) -> Path:
    return make_nasty(tmp_path / "nasty")


def found(report, root: Path) -> set[tuple[str, str]]:
    return {(Path(p.path).relative_to(root).as_posix(), p.kind) for p in report.problems}


def test_report_names_each_problem_exactly(nasty: Path):
    events = []
    report = check_health(scan_folders([nasty]), events.append)
    assert found(report, nasty) == EXPECTED_PROBLEMS
    assert report.classes == EXPECTED_COUNTS
    assert report.near_duplicate_groups == [
        [str(nasty / "dogs/dog_0.png"), str(nasty / "dogs/near.png")]
    ]
    assert report.sizes is not None and report.sizes.max_width == 64  # the rotated JPEG, upright
    assert report.sizes.min_height == 32 and report.sizes.suggested_size == 48
    assert events[-1] == CheckProgress(done=report.files - 1, total=report.files - 1)
    assert from_dict(events[-1].to_dict()) == events[-1]
    assert json.loads(json.dumps(report.to_dict()))["classes"] == EXPECTED_COUNTS


def test_structure_only_check_reads_no_file(nasty: Path):
    report = check_health(scan_folders([nasty]), read_files=False)
    kinds = {kind for _, kind in found(report, nasty)}
    assert kinds == {"unsupported", "empty_class", "too_few_images", "imbalance"}


def test_check_stops_when_asked(nasty: Path):
    token = StopToken()
    token.stop()
    report = check_health(scan_folders([nasty]), token=token)
    assert report.cancelled and report.checked == 0


def test_training_on_the_nasty_folder_succeeds_and_changes_nothing(nasty: Path, tmp_path: Path):
    from studio.engine.training.trainer import fit

    before = snapshot(nasty)
    check_health(scan_folders([nasty]))
    config = ProjectConfig.model_validate(
        {
            "data": {"sources": [nasty]},
            "model": {"name": "small_cnn", "weights": "none"},
            "train": {"epochs": 1, "image_size": 32, "batch_size": 8, "num_workers": 0},
        }
    )
    result = fit(config, lambda event: None, run_dir=tmp_path / "run")
    assert result.status == "finished" and result.classes == ["birds", "cats", "dogs"]
    split = json.loads((tmp_path / "run" / "split.json").read_text())
    assert split["counts"]["birds"] == {"train": 1, "val": 0, "test": 0}
    assert snapshot(nasty) == before


def test_given_splits_are_used_and_leakage_is_found(tmp_path: Path):
    root = tmp_path / "splits"
    make_dataset(root / "train", per_class=4)
    make_dataset(root / "Validation", per_class=2)
    (root / "Validation" / "cats" / "leak.png").write_bytes(
        (root / "train" / "cats" / "cats_00.png").read_bytes()
    )
    index = scan_folders([root])
    assert index.counts == {"birds": 6, "cats": 7, "dogs": 6}
    assert sorted(set(index.splits)) == ["train", "val"]
    kinds = {(Path(p.path).name, p.kind) for p in check_health(index).problems}
    assert {("leak.png", "leakage"), ("cats_00.png", "leakage")} <= kinds
    assigned = assign_splits(content_keys(index.paths), index.labels, index.splits, 0.2, 0, 0)
    assert assigned == index.splits  # the folders' split is kept as given


def test_split_is_stable_seeded_and_keeps_duplicates_together(tmp_path: Path):
    data = make_dataset(tmp_path / "data", per_class=30)
    for i in range(5):
        (data / "cats" / f"dup_{i}.png").write_bytes((data / "cats" / "cats_03.png").read_bytes())
    index = scan_folders([data])
    keys = content_keys(index.paths)
    first = assign_splits(keys, index.labels, [], 0.2, 0.1, seed=7)
    where = dict(zip(index.paths, first, strict=True))
    assert (
        len(
            {
                where[p]
                for p in index.paths
                if p.read_bytes() == (data / "cats" / "cats_03.png").read_bytes()
            }
        )
        == 1
    )
    counts = split_counts(index.classes, index.labels, first)
    assert all(c["val"] >= 1 and c["train"] > c["val"] for c in counts.values())
    assert assign_splits(keys, index.labels, [], 0.2, 0.1, seed=8) != first
    make_dataset(tmp_path / "more", per_class=20, classes={"cats": (9, 9, 9)})
    for path in (tmp_path / "more" / "cats").iterdir():
        path.rename(data / "cats" / f"new_{path.name}")
    grown = scan_folders([data])
    again = assign_splits(content_keys(grown.paths), grown.labels, [], 0.2, 0.1, seed=7)
    moved = [p for p, s in zip(grown.paths, again, strict=True) if p in where and where[p] != s]
    assert moved == []


def test_edits_exclude_and_rename_without_touching_files(dataset: Path):
    index = scan_folders([dataset])
    edited = Edits(
        excluded_files=frozenset({dataset / "cats" / "cats_00.png"}),
        excluded_classes=frozenset({"birds"}),
        class_names={"dogs": "puppies"},
    ).apply(index)
    assert edited.counts == {"cats": 11, "puppies": 12}


def test_permission_denied_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    real_scandir = os.scandir

    def scandir(path):  # as a non-root user sees a chmod 0 folder (root reads everything)
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(StudioError, match="Permission denied"):
        scan_folders([locked])


def test_cli_scan_json_and_summary(nasty: Path, tmp_path: Path):
    done = studio("scan", str(nasty), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["classes"] == EXPECTED_COUNTS
    kinds = {(Path(p["path"]).relative_to(nasty).as_posix(), p["kind"]) for p in report["problems"]}
    assert kinds == EXPECTED_PROBLEMS
    assert all(p["detail"] for p in report["problems"])
    text = studio("scan", str(nasty))
    assert text.returncode == 0 and "Truncated images (1)" in text.stdout
    missing = studio("scan", str(tmp_path / "missing"))
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    assert "Folder not found" in missing.stderr and "Traceback" not in missing.stderr


def test_test_fraction_reaches_the_config(dataset: Path):
    from studio.cli.main import build_parser
    from studio.cli.train import config_from_args

    args = build_parser().parse_args(["train", "--data", str(dataset), "--test-fraction", "0.1"])
    assert config_from_args(args).data.test_fraction == 0.1
