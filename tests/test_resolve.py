"""The settings resolver: derived values with reasons, the user's values win, the machine's
limits, the bounds of every setting, and ``studio train --dry-run``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from studio.cli.main import main
from studio.config import ProjectConfig
from studio.config.errors import field_bounds
from studio.config.io import PROJECT_FILE
from studio.engine.machine import Machine, detect
from studio.engine.models.catalog import CATALOG
from studio.engine.training.loader_workers import loader_workers, max_workers
from studio.engine.training.resolve import RULES, Conflict, adopt, resolve

LAPTOP = Machine(cores=2, memory_bytes=8 << 30, accelerator="cpu")
GPU_BOX = Machine(cores=32, memory_bytes=64 << 30, accelerator="cuda")


def choices(user: dict[str, object]) -> ProjectConfig:
    """A config where the user set exactly ``user`` (dotted names)."""
    config = ProjectConfig()
    for name, value in user.items():
        section, field = name.split(".")
        setattr(getattr(config, section), field, value)
    config.user_set = list(user)
    return config


def test_a_pretrained_model_gets_its_weights_fine_tuning_and_size_with_reasons():
    resolution = resolve(choices({"model.name": "resnet18"}), LAPTOP)
    model, train = resolution.config.model, resolution.config.train
    assert (model.weights, model.strategy, train.image_size, train.num_workers) == (
        "imagenet",
        "full",
        224,
        0,
    )
    assert resolution.derived == [r.name for r in RULES if r.name != "model.name"]
    assert resolution.reason("model.name") == "model resnet18: set by you"
    assert resolution.reason("train.image_size") == (
        "image size 224: the pre-trained weights were made at 224 px"
    )
    assert resolution.reason("model.strategy").startswith(
        "fine-tuning full: pre-trained weights are used"
    )
    assert resolution.reason("train.num_workers").startswith("loader workers 0: on a CPU")
    assert resolution.notices == ()


def test_defaults_and_scratch_choices_are_derived_the_same_way():
    default = resolve(ProjectConfig(), LAPTOP).config
    assert (default.model.name, default.model.weights, default.model.strategy) == (
        "small_cnn",
        "none",
        "scratch",
    )
    assert default.train.image_size == 64
    scratch = resolve(choices({"model.name": "efficientnet_b2", "model.weights": "none"}))
    assert scratch.config.model.strategy == "scratch"
    assert scratch.config.train.image_size == 288  # torchvision's size, loaded or not
    assert scratch.reason("model.strategy") == (
        "fine-tuning scratch: no pre-trained weights, so every layer learns from random values"
    )
    by_strategy = resolve(choices({"model.name": "resnet18", "model.strategy": "scratch"}))
    assert by_strategy.config.model.weights == "none"
    assert "scratch strategy" in by_strategy.reason("model.weights")
    small_vit = resolve(choices({"model.name": "vit_b_16", "train.image_size": 192}))
    assert small_vit.config.model.weights == "none"  # the size the user chose wins
    assert "need 224 px images, and you chose 192 px" in small_vit.reason("model.weights")


def test_a_value_the_user_set_always_wins():
    config = choices({"model.name": "resnet18", "train.image_size": 96, "model.strategy": "linear"})
    resolution = resolve(config, LAPTOP)
    assert resolution.config.train.image_size == 96
    assert resolution.config.model.strategy == "linear"
    assert resolution.settings["train.image_size"].source == "user"
    assert config.train.image_size == 96 and config.model.weights == "none"  # input untouched
    again = resolve(resolution.config, LAPTOP)  # resolving a resolved config changes nothing
    assert again.config == resolution.config and again.settings == resolution.settings


def test_a_config_from_outside_keeps_what_it_wrote():
    written = ProjectConfig.model_validate({"model": {"name": "resnet18", "strategy": "scratch"}})
    adopted = adopt(written)
    assert adopted.user_set == ["model.name", "model.strategy"]
    model = resolve(adopted).config.model
    assert (model.weights, model.strategy) == ("none", "scratch")  # not written: derived
    by_code = ProjectConfig()
    by_code.train.image_size, by_code.train.num_workers, by_code.train.epochs = 16, 0, 2
    assert adopt(by_code).user_set == ["train.epochs", "train.image_size", "train.num_workers"]
    resolved = resolve(choices({"model.name": "resnet18"}), LAPTOP).config
    assert adopt(resolved).user_set == ["model.name", "train.num_workers"]  # its count is fixed


@pytest.mark.parametrize(
    ("user", "names", "words"),
    [
        ({"model.weights": "imagenet"}, {"model.name", "model.weights"}, "no pre-trained"),
        (
            {"model.name": "resnet18", "model.weights": "imagenet", "model.strategy": "scratch"},
            {"model.strategy", "model.weights"},
            "random weights",
        ),
        (
            {"model.name": "resnet18", "model.weights": "none", "model.strategy": "linear"},
            {"model.strategy", "model.weights"},
            "fine-tunes pre-trained weights",
        ),
        (
            {"model.name": "vit_b_16", "model.weights": "imagenet", "train.image_size": 192},
            {"train.image_size", "model.weights"},
            "need 224 px",
        ),
    ],
)
def test_contradicting_choices_are_a_conflict_naming_the_settings(user, names, words):
    with pytest.raises(Conflict, match=words) as info:
        resolve(choices(user))
    assert names <= set(info.value.names)


def test_loader_workers_are_capped_by_cores_and_memory_with_a_notice():
    assert max_workers(LAPTOP) == 1  # all cores but one
    assert max_workers(Machine(cores=64, memory_bytes=4 << 30, accelerator="cuda")) == 2
    assert max_workers(Machine(cores=1, memory_bytes=None, accelerator="cpu")) == 0
    assert loader_workers("auto", "cuda", GPU_BOX)[0] == 8  # today's 'auto' on a GPU
    assert loader_workers("auto", "cpu", GPU_BOX)[0] == 0  # and on a CPU
    resolution = resolve(choices({"train.num_workers": 100_000}), LAPTOP)
    assert resolution.config.train.num_workers == 1
    assert resolution.settings["train.num_workers"].source == "lowered"
    (notice,) = resolution.notices
    assert notice.startswith("Loader workers 1: you asked for 100000") and "2 cores" in notice
    assert resolve(choices({"train.num_workers": 1}), LAPTOP).notices == ()
    unknown = resolve(ProjectConfig(), machine=None)  # the window before torch has loaded
    assert unknown.config.train.num_workers == "auto"


def _numeric_fields(model: type[BaseModel], prefix: str = ""):
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _numeric_fields(annotation, f"{prefix}{name}.")
        elif annotation in (int, float) or "int" in str(annotation):
            yield f"{prefix}{name}", info


def test_every_numeric_setting_has_a_lower_and_an_upper_bound():
    fields = dict(_numeric_fields(ProjectConfig))
    assert {"train.seed", "train.num_workers", "schema_version"} <= set(fields)
    unbounded = [n for n, info in fields.items() if None in field_bounds(info)]
    assert unbounded == []


def _dry_run(capsys, *args: str) -> dict:
    assert main(["train", *args, "--dry-run", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_dry_run_prints_the_resolution_for_data_and_for_a_project(
    capsys, dataset: Path, tmp_path: Path
):
    shown = _dry_run(capsys, "--data", str(dataset), "--model", "convnext_tiny", "--epochs", "3")
    config = ProjectConfig.model_validate(shown["config"])
    assert config.user_set == ["model.name", "train.epochs"]
    assert (config.model.weights, config.train.image_size) == ("imagenet", 224)
    assert shown["settings"]["train.image_size"]["source"] == "derived"
    project = tmp_path / "project"  # the same choices in a project file
    project.mkdir()
    (project / PROJECT_FILE).write_text(
        f'schema_version = 2\n[data]\nsources = ["{dataset}"]\n'
        '[model]\nname = "convnext_tiny"\n[train]\nepochs = 3\n'
    )
    from_project = _dry_run(capsys, str(project))
    assert from_project["config"] == shown["config"]
    assert main(["train", str(project), "--seed", "0", "--set", "train.epochs=2"]) == 2
    assert "--seed, --set: with PROJECT_DIR the project's settings" in capsys.readouterr().err
    assert main(["train", str(project), "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert "the pre-trained weights were made at 224 px" in text and "set by you" in text
    assert not (tmp_path / "project" / "runs").exists()  # nothing trained


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workers", "many"], "--workers: expected a number of processes or 'auto'"),
        (["--workers", "-1"], "invalid loader workers (train.num_workers): must be between 0"),
        (["--set", "train.seed=4294967296"], "must be between 0 and 4294967295"),
        (["--set", "train.num_workers=1000000"], "must be between 0 and 100000 (got 1000000)"),
        (["--model", "small_cnn", "--strategy", "partial"], "Small CNN (from scratch) has none"),
    ],
)
def test_bad_settings_are_one_line(capsys, dataset: Path, args: list[str], message: str):
    assert main(["train", "--data", str(dataset), *args, "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_workers_100000_trains_with_a_capped_count_and_says_so(
    capsys, dataset: Path, tmp_path: Path
):
    out = tmp_path / "run"
    args = ["--data", str(dataset), "--epochs", "1", "--image-size", "32", "--batch-size", "8"]
    assert main(["train", *args, "--workers", "100000", "--out", str(out)]) == 0
    cap = max_workers(detect())
    assert f"! Loader workers {cap}: you asked for 100000" in capsys.readouterr().out
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    assert any(e["event"] == "notice" and "you asked for 100000" in e["message"] for e in events)
    config = json.loads((out / "config.json").read_text())
    assert config["train"]["num_workers"] == cap and "train.num_workers" in config["user_set"]


def test_the_resolver_loads_without_torch():
    code = (
        "import sys\n"
        "from studio.config import ProjectConfig\n"
        "from studio.engine.machine import Machine\n"
        "from studio.engine.training.resolve import resolve\n"
        "resolve(ProjectConfig(), Machine.here('cpu'))\n"
        "print(sorted({m.split('.')[0] for m in sys.modules}))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "'torch'" not in loaded and "'torchvision'" not in loaded


def test_the_catalogue_sizes_are_torchvisions():
    import torchvision

    for spec in CATALOG.values():
        if spec.has_pretrained:
            weights = torchvision.models.get_model_weights(spec.torchvision_name).DEFAULT
            assert spec.default_image_size == weights.transforms().crop_size[0], spec.name
