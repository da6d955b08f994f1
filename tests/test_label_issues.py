"""The label-issue finder on real digits with labels flipped on purpose, and the decisions
(relabel, exclude, keep) kept in the project and used by the next run."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from pathlib import Path

import pytest
import torch
from conftest import make_dataset

from studio.cli.main import main
from studio.config import ProjectConfig
from studio.config.io import load_project, read_path, save_project
from studio.engine.data.index import Edits, scan_folders
from studio.engine.events import Progress
from studio.engine.models.factory import create_model
from studio.engine.results.label_issues import find_label_issues
from studio.engine.results.quick_models import Cancelled, QuickSettings
from studio.resources import sample_dataset

TINY = ["--folds", "3", "--image-size", "12", "--epochs", "3"]


def flipped_digits(root: Path, share: float = 0.1, seed: int = 0) -> list[Path]:
    """The sample digits copied into ``root``, ``share`` of them into a wrong class folder;
    returns the copies that were flipped."""
    source = sample_dataset()
    classes = sorted(p.name for p in source.iterdir() if p.is_dir())
    images = sorted(source.rglob("*.png"))
    rng = random.Random(seed)
    chosen = set(rng.sample(range(len(images)), round(share * len(images))))
    flipped = []
    for i, image in enumerate(images):
        cls = image.parent.name
        if i in chosen:
            cls = rng.choice([c for c in classes if c != cls])
        target = root / cls / image.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(image, target)
        if i in chosen:
            flipped.append(target)
    return flipped


def digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("flipped") / "digits"
    return root, flipped_digits(root)


def test_cli_finds_the_flipped_labels(digits, capsys):
    root, flipped = digits
    before = digests(root)
    assert main(["label-issues", str(root), *TINY, "--all", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    ranked = [Path(im["path"]) for im in out["images"]]
    assert len(ranked) == len(before)  # every training and validation image, ranked
    assert set(out["images"][0]) >= {"path", "given", "suggested", "score"}
    top = set(ranked[: 2 * len(flipped)])
    recall = len(top & set(flipped)) / len(flipped)
    assert recall >= 0.7
    scores = [im["score"] for im in out["images"]]
    assert scores == sorted(scores, reverse=True)
    by_path = {Path(im["path"]): im for im in out["images"]}
    suggested_right = [
        by_path[p]["suggested"] != p.parent.name for p in flipped if p in top
    ]  # the suggestion is another class than the wrong folder
    assert sum(suggested_right) / len(suggested_right) >= 0.9
    assert digests(root) == before  # nothing written into the user's folders


def test_decisions_round_trip_and_change_the_next_training_set(dataset: Path, tmp_path: Path):
    from studio.engine.training.trainer import fit

    before = digests(dataset)
    cats = sorted((dataset / "cats").glob("*.png"))
    project = tmp_path / "project"
    config = ProjectConfig()
    config.data.sources = [dataset]
    config.data.relabeled_files = {cats[0]: "dogs"}
    config.data.excluded_files = [cats[1]]
    config.data.kept_files = [cats[2]]
    save_project(project, config)
    reopened = load_project(project).config
    assert reopened.data.relabeled_files == {cats[0]: "dogs"}
    assert reopened.data.excluded_files == [cats[1]] and reopened.data.kept_files == [cats[2]]

    index = Edits.of(reopened.data).apply(scan_folders([dataset]))
    label = dict(zip(index.paths, index.labels, strict=True))
    assert index.classes[label[cats[0]]] == "dogs" and cats[1] not in label
    assert index.counts == {"birds": 12, "cats": 10, "dogs": 13}

    reopened.train.epochs, reopened.train.image_size = 1, 16
    reopened.train.device, reopened.train.num_workers = "cpu", 0
    fit(reopened, lambda event: None, run_dir=tmp_path / "run")
    split = json.loads((tmp_path / "run" / "split.json").read_text())
    counts = {c: sum(n.values()) for c, n in split["counts"].items()}
    assert counts == {"birds": 12, "cats": 10, "dogs": 13}
    run = tmp_path / "run"  # each file stored relative to its run folder
    listed = [str(read_path(p, run)) for files in split["files"].values() for p in files]
    assert str(cats[1]) not in listed and str(cats[0]) in listed
    assert digests(dataset) == before  # relabelled, excluded: the files are untouched


def test_relabel_to_a_renamed_or_excluded_class(dataset: Path):
    cats = sorted((dataset / "cats").glob("*.png"))
    index = scan_folders([dataset])
    edits = Edits(
        excluded_classes=frozenset({"birds"}),
        class_names={"dogs": "hounds"},
        relabeled_files={cats[0]: "dogs", cats[1]: "birds", cats[2]: "hounds"},
    )
    out = edits.apply(index)
    label = {p: out.classes[lab] for p, lab in zip(out.paths, out.labels, strict=True)}
    assert label[cats[0]] == "hounds" and label[cats[2]] == "hounds"  # folder or shown name
    assert cats[1] not in label  # moved into an excluded class: left out
    assert out.classes == ["cats", "hounds"]


def test_kept_images_leave_the_list_and_the_search_can_be_cancelled(dataset: Path):
    from studio.engine.control import StopToken

    config = ProjectConfig()
    config.data.sources = [dataset]
    quick = QuickSettings(image_size=16, epochs=1)
    events: list = []
    report = find_label_issues(config, 3, sink=events.append, quick=quick)
    assert len(report.images) == 36 and report.kept == 0
    assert any(isinstance(e, Progress) and e.stage.startswith("Fold 3 of 3") for e in events)
    config.data.kept_files = [report.images[0].path]
    again = find_label_issues(config, 3, quick=quick)
    assert report.images[0].path not in {im.path for im in again.images} and again.kept == 1

    token = StopToken()
    token.stop()
    with pytest.raises(Cancelled):
        find_label_issues(config, 3, token=token, quick=quick)


def test_pretrained_models_use_cached_backbone_features(tmp_path: Path):
    data = make_dataset(tmp_path / "data", per_class=8, size=16)
    torch.manual_seed(0)
    weights = tmp_path / "resnet18.pth"
    torch.save(create_model("resnet18", num_classes=1000).state_dict(), weights)
    config = ProjectConfig()
    config.data.sources = [data]
    config.model.name, config.model.weights, config.model.strategy = (
        "resnet18",
        str(weights),
        "linear",
    )
    config.train.image_size, config.train.device = 32, "cpu"
    cache = tmp_path / "cache"
    first = find_label_issues(config, 2, cache_dir=cache)
    assert "ResNet" in first.method and "logistic regression" in first.method
    assert len(list(cache.glob("features-*.safetensors"))) == 1
    events: list = []
    second = find_label_issues(config, 2, cache_dir=cache, sink=events.append)
    assert not any(e.stage == "Computing backbone features" for e in events)  # cache hit
    assert [im.path for im in second.images] == [im.path for im in first.images]


def test_cli_text_lists_the_top_images(dataset: Path, capsys):
    assert main(["label-issues", str(dataset), *TINY, "--all", "--top", "5"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "look mislabelled" in lines[0] and lines[1].split() == [
        "score",
        "given",
        "suggested",
        "path",
    ]
    assert len(lines) == 2 + 5 and all(str(dataset) in line for line in lines[2:])


def test_bad_input_is_one_line(tmp_path: Path, capsys):
    assert main(["label-issues", str(tmp_path / "nowhere")]) == 2
    assert "Folder not found" in capsys.readouterr().err
    one = make_dataset(tmp_path / "one", per_class=3, classes={"only": (1, 2, 3)})
    assert main(["label-issues", str(one)]) == 2
    assert "1 class" in capsys.readouterr().err
