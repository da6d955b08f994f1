"""``studio train``: train on image folders (``--data``), a project (``PROJECT_DIR``) or continue
a run (``--resume``), headless, with the same engine and config as the window.

A project trains with exactly the settings saved in its ``studio-project.toml`` (as the app
would), into ``PROJECT_DIR/runs/<date-time>``, and is recorded in the project's run history.
Exit codes: 0 finished, 1 the run failed or was stopped, 2 bad input (one line).

``--gpus N`` trains data-parallel in N processes started through torchrun's launcher (the
same as ``torchrun --standalone --nproc-per-node N -m studio train …``); ``--batch-size`` is
then the total over the processes.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from studio.cli import dry_run
from studio.cli.progress import Printer
from studio.config import AugmentConfig, ProjectConfig
from studio.config.augment import PRESETS
from studio.config.errors import explain
from studio.config.schema import SECTIONS, SETTINGS
from studio.engine.models.catalog import CATALOG
from studio.engine.training.resolve import Resolution, adopt, resolve
from studio.errors import StudioError

if TYPE_CHECKING:
    from studio.engine.data.index import DatasetIndex

# options that set one setting each; those not given are left to the settings resolver
_SETTINGS = {
    "model": "model.name",
    "weights": "model.weights",
    "strategy": "model.strategy",
    "unfreeze": "model.unfreeze",
    "backbone_lr_factor": "model.backbone_lr_factor",
    "dropout": "model.dropout",
    "epochs": "train.epochs",
    "batch_size": "train.batch_size",
    "lr": "train.learning_rate",
    "image_size": "train.image_size",
    "seed": "train.seed",
    "val_fraction": "data.val_fraction",
    "test_fraction": "data.test_fraction",
    "device": "train.device",
    "workers": "train.num_workers",
}
_MACHINE_OPTIONS = ("device", "workers")  # allowed with PROJECT_DIR
# options that are project settings: refused with PROJECT_DIR
_PROJECT_KNOBS = (
    *(k for k in _SETTINGS if k not in _MACHINE_OPTIONS),
    "augment",
    "no_flip",
    "set",
    "early_stopping",
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser("train", help="train a model on image folders, headless")
    add_arguments(train)


def add_arguments(train: argparse.ArgumentParser) -> None:
    """The options; every setting defaults to ``None`` (not given: the resolver derives it
    or the config's default holds)."""
    defaults = ProjectConfig()
    train.add_argument(
        "--data",
        action="append",
        metavar="DIR",
        help="image folder: a root of class folders, or one class folder (repeat for several); "
        "required unless PROJECT_DIR is given",
    )
    train.add_argument(
        "--model",
        choices=sorted(CATALOG),
        metavar="NAME",
        help=f"one of: {', '.join(CATALOG)} (default: {defaults.model.name})",
    )
    train.add_argument(
        "--weights",
        help="none, imagenet, or the path of a .pth/.pt/.safetensors file (default: imagenet "
        "for a model that has pre-trained weights, else none)",
    )
    train.add_argument(
        "--strategy",
        choices=["linear", "partial", "full", "scratch"],
        help="fine-tuning: linear (head only), partial (head + last stages), "
        "full (everything, backbone gentler), scratch (random weights); default: full "
        "with pre-trained weights, scratch without",
    )
    train.add_argument(
        "--unfreeze",
        type=int,
        metavar="N",
        help="with --strategy partial: how many last stages learn",
    )
    train.add_argument(
        "--backbone-lr-factor",
        type=float,
        help="backbone learning rate = --lr x this (partial and full)",
    )
    train.add_argument("--dropout", type=float)
    train.add_argument("--epochs", type=int, help=f"default {defaults.train.epochs}")
    train.add_argument("--batch-size", type=int, help=f"default {defaults.train.batch_size}")
    train.add_argument("--lr", type=float, help="learning rate")
    train.add_argument(
        "--image-size",
        type=int,
        metavar="PX",
        help="default: the size the model's pre-trained weights were made at",
    )
    train.add_argument("--seed", type=int)
    train.add_argument("--val-fraction", type=float)
    train.add_argument(
        "--test-fraction",
        type=float,
        help="share held out for a final test, never trained on (default 0)",
    )
    train.add_argument(
        "--augment",
        metavar="PRESET_OR_FILE",
        help=f"augmentation preset ({', '.join(PRESETS)}; default {defaults.augment.preset}) "
        "or a JSON/TOML file with the augmentation settings, e.g. saved from the app",
    )
    train.add_argument("--no-flip", action="store_true", help="never mirror images")
    train.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"])
    train.add_argument(
        "--workers",
        help="data-loader processes, or auto (default); more than the machine runs is lowered",
    )
    train.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="RUN_DIR",
        help="a new run folder for events.jsonl, config.json and the best model (default: "
        "<date-time> in Studio's runs folder, $STUDIO_HOME/runs when set)",
    )
    train.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.FIELD=VALUE",
        help="any other setting, e.g. train.optimizer=sgd, train.schedule=onecycle, "
        "train.label_smoothing=0.1, train.class_weighting=loss (repeat for several)",
    )
    train.add_argument(
        "--early-stopping",
        type=int,
        default=None,
        metavar="PATIENCE",
        help="stop when validation has not improved for this many epochs",
    )
    train.add_argument(
        "--resume",
        type=Path,
        default=None,
        metavar="RUN_DIR",
        help="continue an interrupted or stopped run from its last checkpoint",
    )
    train.add_argument(
        "--log",
        action="append",
        default=[],
        choices=("tensorboard", "mlflow"),
        help="also log the run to TensorBoard (event files in the run folder) or MLflow (a "
        "local mlflow.db beside the run folders); repeat for both. Needs: pip install "
        "'studio[tracking]'",
    )
    train.add_argument(
        "--gpus",
        type=int,
        metavar="N",
        help="train data-parallel in N processes, one per GPU (on a machine without a GPU, or "
        "with --device cpu: N CPU processes); --batch-size is the total, split evenly. "
        "Several machines: start torchrun yourself (see the README)",
    )
    train.add_argument(
        "--sync-bn",
        action="store_true",
        help="with several processes: synchronise batch-norm statistics across them (helps "
        "small per-GPU batches)",
    )
    train.add_argument("--quiet", action="store_true", help="print only the final line")
    train.add_argument(
        "--dry-run",
        action="store_true",
        help="print the resolved settings and why each was chosen, without training",
    )
    train.add_argument("--json", action="store_true", help="with --dry-run: machine-readable")
    train.add_argument(
        "project",
        nargs="?",
        type=Path,
        metavar="PROJECT_DIR",
        help="a Studio project folder: train with its saved settings and record the run in "
        "its history (instead of --data and the other settings)",
    )


def run(args: argparse.Namespace) -> int:
    if args.json and not args.dry_run:
        raise StudioError("--json goes with --dry-run (a run's events are in events.jsonl)")
    if args.project is not None:
        return _train_project(args)
    if not args.data and args.resume is None:
        raise StudioError(
            "give the image folders with --data DIR, a PROJECT_DIR, or --resume RUN_DIR"
        )
    return _train(args)


def config_from_args(args: argparse.Namespace) -> ProjectConfig:
    """Translate command-line options into the shared config (validated by pydantic). The
    settings given are recorded in ``user_set``; the resolver derives the others."""
    data: dict[str, Any] = {
        "data": {"sources": [Path(os.path.abspath(d)) for d in args.data]},
        "user_set": [],
    }
    for option, name in _SETTINGS.items():
        value = getattr(args, option)
        if value is not None:
            section, field = name.split(".")
            data.setdefault(section, {})[field] = (
                _worker_count(value) if option == "workers" else value
            )
            data["user_set"].append(name)
    if args.augment is not None or args.no_flip:
        preset = args.augment or AugmentConfig.model_fields["preset"].default
        data["augment"] = augment_settings(preset, args.no_flip)
        given = AugmentConfig.model_fields if args.augment in PRESETS else data["augment"]
        data["user_set"] += [f"augment.{n}" for n in given if n in AugmentConfig.model_fields]
    return ProjectConfig.model_validate(data)


def _worker_count(value: str) -> int | str:
    if value == "auto":
        return value
    try:
        return int(value)
    except ValueError:
        raise StudioError(
            f"--workers: expected a number of processes or 'auto' (got {value!r})"
        ) from None


def augment_settings(value: str, no_flip: bool = False) -> dict:
    """``--augment``: a preset name, or a JSON/TOML file holding an augmentation section
    (or a whole project config, whose ``augment`` part is used)."""
    if value in PRESETS:
        data: dict = {"preset": value}
    else:
        data = _read_settings(Path(value))
        try:
            AugmentConfig.model_validate(data)
        except ValidationError as exc:
            raise StudioError(f"{value}: {explain(exc, AugmentConfig)}") from None
    if no_flip:
        data = {**data, "horizontal_flip": {"enabled": False}, "vertical_flip": {"enabled": False}}
    return data


def _read_settings(path: Path) -> dict:
    if not path.is_file():
        raise StudioError(
            f"--augment: {path} is neither a preset ({', '.join(PRESETS)}) nor a file"
        )
    try:
        if path.suffix.lower() == ".toml":
            import tomllib

            data = tomllib.loads(path.read_text(encoding="utf-8"))
        else:
            data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        kind = "TOML" if path.suffix.lower() == ".toml" else "JSON"
        raise StudioError(f"{path}: not valid {kind}: {exc}") from None
    if not isinstance(data, dict):
        raise StudioError(f"{path}: expected a table of augmentation settings")
    section = data.get("augment", data)
    if not isinstance(section, dict):
        raise StudioError(f"{path}: 'augment' must be a table of augmentation settings")
    return section


def _train(args: argparse.Namespace) -> int:
    try:
        if args.resume is not None:
            config = _resumed_config(args.resume)
            args.out = args.resume
        else:
            config = config_from_args(args)
            config = _with_overrides(config, args.set, args.early_stopping)
    except (ValidationError, ValueError) as exc:
        raise StudioError(_first_error(exc)) from None
    from studio.engine.data.index import trainable_index

    index, _ = trainable_index(config.data.sources)  # bad data fails before torch loads
    if args.resume is None:
        return _resolve_and_run(config, index, args)
    from studio.engine.results.test_seal import project_of  # its history follows the resume

    return _resolve_and_run(config, index, args, resume=True, project=project_of(args.resume))


def _resolve_and_run(
    config: ProjectConfig, index: DatasetIndex, args: argparse.Namespace, **options: Any
) -> int:
    """Resolve ``config`` for ``index`` here, then print it (``--dry-run``) or train it."""
    from studio.engine.training import tracking

    if args.log:  # where the run is watched, not what it learns: allowed with PROJECT_DIR
        chosen = {f"log_{tool}": True for tool in args.log}
        config = config.model_copy(update={"train": config.train.model_copy(update=chosen)})
    tracking.check(config)
    resolution = resolved(config, index)
    if args.dry_run:
        return dry_run.show(resolution, args.json)
    if args.gpus is not None:
        from studio.cli import launch

        if launch.needed(args.gpus):  # this process starts them; each one comes back here
            return launch.processes(args.gpus, resolution.config.train.device, args.argv)
    return run_training(
        resolution.config,
        args.out,
        args.quiet,
        notices=resolution.notices,
        sync_bn=args.sync_bn,
        **options,
    )


def resolved(config: ProjectConfig, index: DatasetIndex | None = None) -> Resolution:
    """The settings resolver on this machine and for the data of ``index`` (the settings
    that follow the data are derived from it as the window does); a weights file must
    exist."""
    from studio.engine.machine import detect
    from studio.engine.training.data_facts import data_facts

    facts = data_facts(index) if index is not None else None
    resolution = resolve(config, detect(), facts)
    weights = resolution.config.model.weights
    if weights not in ("none", "imagenet") and not Path(weights).is_file():
        raise StudioError(f"Weights file not found: {weights}")
    return resolution


def run_training(
    config: ProjectConfig,
    run_dir: Path | None,
    quiet: bool,
    resume: bool = False,
    project: Path | None = None,
    notices: tuple[str, ...] = (),
    sync_bn: bool = False,
) -> int:
    """Train headless through a :class:`RunSession` into ``run_dir`` (default: a new folder
    in Studio's runs folder, or the project's ``runs/``), recorded in ``project``'s history
    when given, else a run in Studio's runs folder in that folder's (the window lists it and
    can move it into a project); readable progress, Ctrl-C stops after the batch.
    ``notices`` (the resolver's, e.g. lowered workers) are sent first. In a data-parallel
    run, rank 0 alone prints."""
    from studio.engine.control import StopToken
    from studio.engine.events import Event, RunFinished, RunStatus
    from studio.engine.runs import files
    from studio.engine.training.session import RunSession

    session = RunSession(
        config,
        run_dir,
        runs_root=None if project else files.runs_root(),
        project=project or (files.runs_root() if run_dir is None else None),
        resume=resume,
        notices=notices,
        sync_bn=sync_bn,
    )
    token = StopToken()
    printer = Printer(quiet=quiet)

    def show(event: Event) -> None:
        if session.peer:
            return
        unstarted = session.started is None and isinstance(event, RunFinished)
        if not (unstarted and event.status == RunStatus.FAILED):  # that one is an error line
            printer(event)

    previous = signal.signal(signal.SIGINT, _stop_then_interrupt(token))
    try:
        final = session.run(show, token)
    finally:
        signal.signal(signal.SIGINT, previous)
    if session.peer:  # rank 0 says what happened
        if session.started is None and final.status == RunStatus.FAILED:
            return 2
        return 0 if final.status == RunStatus.FINISHED else 1
    if session.started is None and final.status == RunStatus.FAILED:
        raise StudioError(final.message)  # bad input found while setting up: one line
    print(f"Run folder: {session.run_dir}")
    if final.status == RunStatus.FAILED:  # its reason is in events.jsonl's run_finished too
        print(f"studio: error: {final.message}", file=sys.stderr)
    return 0 if final.status == RunStatus.FINISHED else 1


def _resumed_config(run_dir: Path) -> ProjectConfig:
    """The settings of the run being continued, each one as it ran."""
    from studio.config.io import load_run_config

    config = load_run_config(run_dir)  # an older run's too, paths made absolute
    config.user_set = sorted(SETTINGS)  # a resume continues the run as it ran: none derived
    return config


def _with_overrides(config: ProjectConfig, pairs: list[str], patience: int | None) -> ProjectConfig:
    """Apply ``section.field=value`` settings (values parsed as JSON when they can be); each
    counts as set by the user."""
    data = config.model_dump(mode="json")
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        section, dot, name = key.strip().partition(".")
        if not (sep and dot) or section not in SECTIONS or name not in data[section]:
            raise StudioError(
                f"--set {pair}: expected SECTION.FIELD=VALUE with a known field, "
                f"e.g. train.optimizer=sgd"
            )
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        data[section][name] = value
        if f"{section}.{name}" in SETTINGS:  # not the image folders or their edits
            data["user_set"].append(f"{section}.{name}")
    if patience is not None:
        data["train"]["early_stopping"] = True
        data["train"]["early_stopping_patience"] = patience
        data["user_set"] += ["train.early_stopping", "train.early_stopping_patience"]
    return ProjectConfig.model_validate(data)


def _train_project(args: argparse.Namespace) -> int:
    from studio.config.io import load_project

    if args.data:
        raise StudioError("give either PROJECT_DIR or --data, not both")
    changed = [k for k in _PROJECT_KNOBS if _given(getattr(args, k))]
    if changed:
        flags = ", ".join("--" + k.replace("_", "-") for k in changed)
        raise StudioError(
            f"{flags}: with PROJECT_DIR the project's settings are used; change them in the "
            "app or in studio-project.toml"
        )
    from studio.engine.data.index import Edits, trainable_index

    project = load_project(args.project)
    if args.resume is not None:  # the run's own settings, recorded in this project's history
        args.out = args.resume
        config = _with_machine_options(_resumed_config(args.resume), args)
        index, _ = trainable_index(config.data.sources, Edits.of(config.data))
        return _resolve_and_run(config, index, args, resume=True, project=project.folder)
    config = _with_machine_options(adopt(project.config), args)
    missing = project.missing_sources()
    if missing:
        raise StudioError(
            f"image folder {missing[0]} is missing: open the project in the app to relocate it"
        )
    index, _ = trainable_index(config.data.sources, Edits.of(config.data))  # before torch
    return _resolve_and_run(config, index, args, project=project.folder)


def _given(value: Any) -> bool:
    return value is not None and value is not False and value != []


def _with_machine_options(config: ProjectConfig, args: argparse.Namespace) -> ProjectConfig:
    """A project's config with ``--device`` and ``--workers`` (set by the user) applied."""
    data = config.model_dump(mode="json")
    for option in _MACHINE_OPTIONS:
        value = getattr(args, option)
        if value is not None:
            field = _SETTINGS[option].split(".")[1]
            data["train"][field] = _worker_count(value) if option == "workers" else value
            data["user_set"].append(_SETTINGS[option])
    try:
        return ProjectConfig.model_validate(data)
    except ValidationError as exc:
        raise StudioError(_first_error(exc)) from None


def _stop_then_interrupt(token):
    def handler(signum, frame):
        if token.stop_requested:
            raise KeyboardInterrupt
        print("\nStopping after this batch… (Ctrl-C again to abort)", file=sys.stderr)
        token.stop()

    return handler


def _first_error(exc: Exception) -> str:
    """``invalid epochs (train.epochs): must be between 1 and 1000 (got 0)``."""
    if isinstance(exc, ValidationError):
        line = explain(exc, ProjectConfig)
        where, _, why = line.partition(": ")
        section, _, field = where.partition(".")
        model = SECTIONS.get(section)
        info = model.model_fields.get(field.split(".")[0]) if model else None
        if section == "augment" or info is None:
            return f"invalid {line}"
        return f"invalid {(info.title or field).lower()} ({where}): {why}"
    return str(exc)
