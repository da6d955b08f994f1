"""``studio train``: train on image folders (``--data``), a project (``PROJECT_DIR``) or continue
a run (``--resume``), headless, with the same engine and config as the window.

A project trains with exactly the settings saved in its ``studio-project.toml`` (as the app
would), into ``PROJECT_DIR/runs/<date-time>``, and is recorded in the project's run history.
Exit codes: 0 finished, 1 the run failed or was stopped, 2 bad input (one line).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from pydantic import ValidationError

from studio.cli.progress import Printer
from studio.config import AugmentConfig, ProjectConfig
from studio.config.augment import PRESETS
from studio.config.errors import explain
from studio.engine.models.catalog import CATALOG
from studio.errors import StudioError

# options that are project settings: refused with PROJECT_DIR (machine options are allowed)
_PROJECT_KNOBS = (
    "model",
    "weights",
    "strategy",
    "unfreeze",
    "backbone_lr_factor",
    "dropout",
    "epochs",
    "batch_size",
    "lr",
    "image_size",
    "seed",
    "val_fraction",
    "test_fraction",
    "augment",
    "no_flip",
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser("train", help="train a model on image folders, headless")
    add_arguments(train)


def add_arguments(train: argparse.ArgumentParser) -> None:
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
        default=defaults.model.name,
        choices=sorted(CATALOG),
        metavar="NAME",
        help=f"one of: {', '.join(CATALOG)}",
    )
    train.add_argument(
        "--weights",
        default=defaults.model.weights,
        help="none, imagenet, or the path of a .pth/.pt/.safetensors file",
    )
    train.add_argument(
        "--strategy",
        default=None,
        choices=["linear", "partial", "full", "scratch"],
        help="fine-tuning: linear (head only), partial (head + last stages), "
        "full (everything, backbone gentler), scratch (random weights); default: full "
        "with pre-trained weights, scratch without",
    )
    train.add_argument(
        "--unfreeze",
        type=int,
        default=defaults.model.unfreeze,
        metavar="N",
        help="with --strategy partial: how many last stages learn",
    )
    train.add_argument(
        "--backbone-lr-factor",
        type=float,
        default=defaults.model.backbone_lr_factor,
        help="backbone learning rate = --lr x this (partial and full)",
    )
    train.add_argument("--dropout", type=float, default=defaults.model.dropout)
    train.add_argument("--epochs", type=int, default=defaults.train.epochs)
    train.add_argument("--batch-size", type=int, default=defaults.train.batch_size)
    train.add_argument(
        "--lr", type=float, default=defaults.train.learning_rate, help="learning rate"
    )
    train.add_argument("--image-size", type=int, default=defaults.train.image_size, metavar="PX")
    train.add_argument("--seed", type=int, default=defaults.train.seed)
    train.add_argument("--val-fraction", type=float, default=defaults.data.val_fraction)
    train.add_argument(
        "--test-fraction",
        type=float,
        default=defaults.data.test_fraction,
        help="share held out for a final test, never trained on (default 0)",
    )
    train.add_argument(
        "--augment",
        default=defaults.augment.preset,
        metavar="PRESET_OR_FILE",
        help=f"augmentation preset ({', '.join(PRESETS)}) or a JSON/TOML file with the "
        "augmentation settings, e.g. saved from the app",
    )
    train.add_argument("--no-flip", action="store_true", help="never mirror images")
    train.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    train.add_argument("--workers", default="auto", help="data-loader processes, or auto")
    train.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="RUN_DIR",
        help="run folder for events.jsonl, config.json and the best model "
        "(default: runs/<date-time>)",
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
    train.add_argument("--quiet", action="store_true", help="print only the final line")
    train.add_argument(
        "project",
        nargs="?",
        type=Path,
        metavar="PROJECT_DIR",
        help="a Studio project folder: train with its saved settings and record the run in "
        "its history (instead of --data and the other settings)",
    )


def run(args: argparse.Namespace) -> int:
    if args.project is not None:
        return _train_project(args)
    if not args.data and args.resume is None:
        raise StudioError(
            "give the image folders with --data DIR, a PROJECT_DIR, or --resume RUN_DIR"
        )
    return _train(args)


def config_from_args(args: argparse.Namespace) -> ProjectConfig:
    """Translate command-line options into the shared config (validated by pydantic)."""
    workers = args.workers if args.workers == "auto" else int(args.workers)
    return ProjectConfig.model_validate(
        {
            "data": {
                "sources": [Path(d) for d in args.data],
                "val_fraction": args.val_fraction,
                "test_fraction": args.test_fraction,
            },
            "augment": augment_settings(args.augment, args.no_flip),
            "model": {
                "name": args.model,
                "weights": args.weights,
                "strategy": args.strategy or ("scratch" if args.weights == "none" else "full"),
                "unfreeze": args.unfreeze,
                "backbone_lr_factor": args.backbone_lr_factor,
                "dropout": args.dropout,
            },
            "train": {
                "epochs": args.epochs,
                "batch_size": args.batch_size,
                "learning_rate": args.lr,
                "image_size": args.image_size,
                "seed": args.seed,
                "num_workers": workers,
                "device": args.device,
            },
        }
    )


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

    trainable_index(config.data.sources)  # bad data fails in a second, before torch loads
    return run_training(config, args.out, args.quiet, resume=args.resume is not None)


def run_training(
    config: ProjectConfig,
    run_dir: Path | None,
    quiet: bool,
    resume: bool = False,
    project: Path | None = None,
) -> int:
    """Train headless through a :class:`RunSession` into ``run_dir`` (default: a new folder
    under ``runs/``, or the project's ``runs/``), recorded in ``project``'s history when given;
    readable progress, Ctrl-C stops after the batch."""
    from studio.engine.control import StopToken
    from studio.engine.events import Event, RunFinished, RunStatus
    from studio.engine.training.session import RunSession

    session = RunSession(
        config, run_dir, runs_root=None if project else Path("runs"), project=project, resume=resume
    )
    token = StopToken()
    printer = Printer(quiet=quiet)

    def show(event: Event) -> None:
        unstarted = session.started is None and isinstance(event, RunFinished)
        if not (unstarted and event.status == RunStatus.FAILED):  # that one is an error line
            printer(event)

    previous = signal.signal(signal.SIGINT, _stop_then_interrupt(token))
    try:
        final = session.run(show, token)
    finally:
        signal.signal(signal.SIGINT, previous)
    if session.started is None and final.status == RunStatus.FAILED:
        raise StudioError(final.message)  # bad input found while setting up: one line
    print(f"Run folder: {session.run_dir}")
    return 0 if final.status == RunStatus.FINISHED else 1


def _resumed_config(run_dir: Path) -> ProjectConfig:
    from studio.engine.runs.files import CONFIG

    path = run_dir / CONFIG
    if not path.is_file():
        raise StudioError(f"{run_dir} is not a run folder: it has no config.json.")
    return ProjectConfig.model_validate_json(path.read_text(encoding="utf-8"))


def _with_overrides(config: ProjectConfig, pairs: list[str], patience: int | None) -> ProjectConfig:
    """Apply ``section.field=value`` settings (values parsed as JSON when they can be)."""
    data = config.model_dump(mode="json")
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        section, dot, name = key.strip().partition(".")
        if not (sep and dot) or section not in data or name not in data[section]:
            raise StudioError(
                f"--set {pair}: expected SECTION.FIELD=VALUE with a known field, "
                f"e.g. train.optimizer=sgd"
            )
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        data[section][name] = value
    if patience is not None:
        data["train"]["early_stopping"] = True
        data["train"]["early_stopping_patience"] = patience
    return ProjectConfig.model_validate(data)


def _train_project(args: argparse.Namespace) -> int:
    from studio.config.io import load_project

    if args.data:
        raise StudioError("give either PROJECT_DIR or --data, not both")
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    defaults = parser.parse_args([str(args.project)])
    changed = [k for k in _PROJECT_KNOBS if getattr(args, k) != getattr(defaults, k)]
    if changed:
        flags = ", ".join("--" + k.replace("_", "-") for k in changed)
        raise StudioError(
            f"{flags}: with PROJECT_DIR the project's settings are used; change them in the "
            "app or in studio-project.toml"
        )
    project = load_project(args.project)
    config = project.config
    if args.device != "auto":
        config.train.device = args.device
    if args.workers != "auto":
        config.train.num_workers = int(args.workers)
    missing = project.missing_sources()
    if missing:
        raise StudioError(
            f"image folder {missing[0]} is missing: open the project in the app to relocate it"
        )
    from studio.engine.data.index import Edits, trainable_index

    trainable_index(config.data.sources, Edits.of(config.data))  # bad data fails before torch
    return run_training(config, args.out, args.quiet, project=project.folder)


def _stop_then_interrupt(token):
    def handler(signum, frame):
        if token.stop_requested:
            raise KeyboardInterrupt
        print("\nStopping after this batch… (Ctrl-C again to abort)", file=sys.stderr)
        token.stop()

    return handler


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        if err["loc"] and err["loc"][0] == "augment":
            return f"invalid {explain(exc, ProjectConfig)}"
        field = err["loc"][-1] if err["loc"] else "value"
        return f"invalid {str(field).replace('_', ' ')}: {err['msg']}"
    return str(exc)
