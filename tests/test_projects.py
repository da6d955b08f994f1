"""Project files: round trip, migration with backup, broken files, moved image folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from studio.config import SCHEMA_VERSION, ProjectConfig
from studio.config.io import (
    PROJECT_FILE,
    ProjectFileError,
    guess_relocation,
    load_project,
    relocate,
    save_project,
)
from studio.errors import StudioError

FIXTURES = Path(__file__).parent / "fixtures"


def a_config(dataset: Path) -> ProjectConfig:
    config = ProjectConfig()
    config.data.sources = [dataset]
    config.data.excluded_files = [dataset / "cats" / "cats_00.png"]
    config.data.excluded_classes = ["birds"]
    config.data.class_names = {"dogs": "hounds"}
    config.augment = config.augment.model_validate({"preset": "medium", "rotate": {"degrees": 33}})
    config.model.name = "resnet18"
    config.model.weights = "imagenet"
    config.model.strategy = "partial"
    config.model.unfreeze = 2
    config.train.epochs = 7
    config.train.learning_rate = 0.0003
    config.train.num_workers = 0
    return config


def test_round_trip_keeps_every_setting_with_relative_paths(dataset: Path, tmp_path: Path):
    folder = tmp_path / "pets"
    config = a_config(dataset)
    path = save_project(folder, config)
    text = path.read_text()
    assert 'sources = [\n    "../data",\n]' in text or 'sources = ["../data"]' in text
    assert str(tmp_path) not in text  # relative: the project moves with its images
    assert load_project(folder).config == config
    moved = tmp_path / "moved"
    shutil.copytree(tmp_path, moved / "x", ignore=shutil.ignore_patterns("moved"))
    assert load_project(moved / "x" / "pets").config.data.sources == [moved / "x" / "data"]


def test_v0_file_is_migrated_and_the_original_kept(tmp_path: Path):
    folder = tmp_path / "old"
    folder.mkdir()
    original = (FIXTURES / "project-v0.toml").read_bytes()
    (folder / PROJECT_FILE).write_bytes(original)
    project = load_project(folder)
    assert project.migrated_from == 0
    assert project.backup == folder / "studio-project.v0.toml.bak"
    assert project.backup.read_bytes() == original
    config = project.config
    assert config.schema_version == SCHEMA_VERSION
    assert {"train.epochs", "train.learning_rate", "train.image_size"} <= set(config.user_set)
    assert config.data.sources == [tmp_path / "data"]
    assert config.data.val_fraction == 0.25
    assert config.train.learning_rate == 0.005 and config.train.epochs == 3
    assert config.augment.preset == "custom" and not config.augment.horizontal_flip.enabled
    assert config.augment.rotate.enabled  # the rest of the light preset
    again = load_project(folder)  # the file itself was migrated
    assert again.migrated_from is None and again.config == config


def test_syntax_error_names_the_line(tmp_path: Path):
    save_project(tmp_path, ProjectConfig())
    lines = (tmp_path / PROJECT_FILE).read_text().splitlines()
    lines[5] = "epochs = = 3"
    (tmp_path / PROJECT_FILE).write_text("\n".join(lines))
    with pytest.raises(StudioError, match=r"not valid TOML: .*line 6"):
        load_project(tmp_path)


def test_bad_value_names_the_field_and_its_line(tmp_path: Path):
    save_project(tmp_path, ProjectConfig())
    path = tmp_path / PROJECT_FILE
    text = path.read_text()
    path.write_text(text.replace("learning_rate = 0.001", "learning_rate = -1.0"))
    line = 1 + path.read_text().splitlines().index("learning_rate = -1.0")
    with pytest.raises(ProjectFileError) as info:
        load_project(tmp_path)
    message = str(info.value)
    assert f"line {line}: train.learning_rate: must be between 0 and 10 (got -1.0)" in message
    assert "\n" not in message


def test_v1_file_keeps_exactly_its_settings(tmp_path: Path):
    """Schema 1 had no record of what the user set: everything it saved stays as it was."""
    from studio.engine.machine import Machine
    from studio.engine.training.resolve import resolve

    (tmp_path / PROJECT_FILE).write_text(
        'schema_version = 1\n[model]\nname = "resnet18"\nweights = "none"\n'
        'strategy = "scratch"\n[train]\nimage_size = 96\nnum_workers = "auto"\n'
    )
    config = load_project(tmp_path).config
    assert config.user_set == [
        "model.name",
        "model.strategy",
        "model.weights",
        "train.image_size",
    ]
    model = resolve(config, Machine(2, 8 << 30, "cpu")).config.model
    assert (model.name, model.weights, model.strategy) == ("resnet18", "none", "scratch")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("num_workers = 1000000", "train.num_workers: must be between 0 and 100000 (got 1000000)"),
        ("num_workers = 'many'", "train.num_workers: must be a whole number from 0 to 100000"),
        ("seed = 4294967296", "train.seed: must be between 0 and 4294967295 (got 4294967296)"),
    ],
)
def test_out_of_bounds_settings_are_one_line(tmp_path: Path, line: str, message: str):
    (tmp_path / PROJECT_FILE).write_text(f"schema_version = 2\n[train]\n{line}\n")
    with pytest.raises(ProjectFileError) as info:
        load_project(tmp_path)
    assert f"line 3: {message}" in str(info.value) and "\n" not in str(info.value)


def test_unknown_setting_newer_schema_and_missing_file(tmp_path: Path):
    (tmp_path / PROJECT_FILE).write_text("schema_version = 1\n[train]\nepoch = 3\n")
    with pytest.raises(ProjectFileError, match=r"line 3: train.epoch: unknown setting"):
        load_project(tmp_path)
    (tmp_path / PROJECT_FILE).write_text("schema_version = 9\n")
    with pytest.raises(ProjectFileError, match="newer than this Studio"):
        load_project(tmp_path)
    with pytest.raises(ProjectFileError, match="not a Studio project"):
        load_project(tmp_path / "nowhere")


def test_moved_image_folders_are_found_and_relocated(dataset: Path, tmp_path: Path):
    folder = tmp_path / "elsewhere" / "project"
    save_project(folder, a_config(dataset))
    new_home = tmp_path / "disk2" / "pictures"
    new_home.parent.mkdir()
    dataset.rename(new_home)
    project = load_project(folder)
    assert project.missing_sources() == [dataset]
    moves = guess_relocation(project.missing_sources(), new_home)
    assert moves == {dataset: new_home}
    fixed = relocate(project.config, moves)
    assert fixed.data.sources == [new_home]
    assert fixed.data.excluded_files == [new_home / "cats" / "cats_00.png"]
    assert project.config.data.sources == [dataset]  # the original is untouched


def test_guess_relocation_finds_folders_inside_or_beside_the_pick(tmp_path: Path):
    old = [Path("/gone/cats"), Path("/gone/dogs")]
    for name in ("cats", "dogs"):
        (tmp_path / "new" / name).mkdir(parents=True)
    expected = {old[0]: tmp_path / "new" / "cats", old[1]: tmp_path / "new" / "dogs"}
    assert guess_relocation(old, tmp_path / "new") == expected  # picked the parent
    assert guess_relocation(old, tmp_path / "new" / "cats") == expected  # picked one of them
    assert guess_relocation([Path("/gone/photos")], tmp_path / "new") == {
        Path("/gone/photos"): tmp_path / "new"
    }  # one folder, renamed: the pick itself
