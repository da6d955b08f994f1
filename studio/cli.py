"""``studio train …`` and ``studio scan …``: the headless front end. It drives the same engine
and config as the GUI.

Exit codes: 0 finished (``scan``: the scan ran, whatever it found), 1 the run failed or was
stopped, 2 bad input (explained in one line).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from studio import cli_projects
from studio.config import AugmentConfig, ProjectConfig
from studio.config.augment import PRESETS
from studio.config.errors import explain
from studio.engine.events import (
    EpochEnded,
    Event,
    Notice,
    OverfittingDetected,
    RunFinished,
    RunStarted,
    TrainingWarning,
)
from studio.engine.models.catalog import CATALOG
from studio.errors import StudioError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studio", description="Studio: train image classifiers. No arguments opens the app."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train a model on image folders, headless")
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
    models = sub.add_parser("models", help="list the model catalogue and each weights state")
    models.add_argument("--json", action="store_true", help="machine-readable output")
    scan = sub.add_parser("scan", help="check image folders: counts, broken files, duplicates")
    scan.add_argument("folders", nargs="+", type=Path, metavar="DIR", help="image folder(s)")
    scan.add_argument("--json", action="store_true", help="print a machine-readable report")
    scan.add_argument(
        "--no-read",
        action="store_true",
        help="judge folders and names only: no decoding or hashing (fast)",
    )
    cli_projects.extend_parser(sub, train)  # PROJECT_DIR for train, and `studio runs`
    from studio.cli_results import add_parsers  # predict, export, evaluate

    add_parsers(sub)
    return parser


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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if cli_projects.handles(args):
            return cli_projects.run(args)
        if args.command == "train" and not args.data and args.resume is None:
            raise StudioError(
                "give the image folders with --data DIR, a PROJECT_DIR, or --resume RUN_DIR"
            )
        if args.command == "train":
            return _train(args)
        if args.command == "models":
            return _models(args)
        if args.command == "scan":
            from studio.engine.data.scan_report import run_scan

            return run_scan(args.folders, as_json=args.json, read_files=not args.no_read)
        if args.command in ("predict", "export", "evaluate"):
            from studio.cli_results import run

            return run(args)
    except StudioError as exc:
        print(f"studio: error: {exc}", file=sys.stderr)
        return 2
    return 2


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
    from studio.engine.runs.files import new_run_dir

    run_dir = args.out or new_run_dir(Path("runs"))
    return run_training(config, run_dir, args.quiet, resume=args.resume is not None)


def run_training(
    config: ProjectConfig,
    run_dir: Path,
    quiet: bool,
    resume: bool = False,
    record: Callable[[Event], None] | None = None,
) -> int:
    """Train headless into ``run_dir``: ``events.jsonl``, readable progress, Ctrl-C stops
    after the batch. ``record`` also receives every event (a project's run history)."""
    from studio.engine.control import StopToken
    from studio.engine.runs.eventlog import JsonlWriter
    from studio.engine.training.trainer import fit

    token = StopToken()
    previous = signal.signal(signal.SIGINT, _stop_then_interrupt(token))
    writer = JsonlWriter(run_dir / "events.jsonl")
    printer = _Printer(quiet=quiet)

    def sink(event: Event) -> None:
        writer(event)
        if record is not None:
            record(event)
        printer(event)

    try:
        result = fit(config, sink, token, run_dir, resume=resume)
    except StudioError:
        raise
    except Exception:
        return 1
    finally:
        writer.close()
        signal.signal(signal.SIGINT, previous)
    print(f"Run folder: {run_dir}")
    return 0 if result.status == "finished" else 1


def _resumed_config(run_dir: Path) -> ProjectConfig:
    path = run_dir / "config.json"
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


def _models(args: argparse.Namespace) -> int:
    from studio.engine.models.info import catalogue

    rows = catalogue()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(
        f"{'model':20s} {'params':>8s} {'GFLOPs':>7s} {'top-1':>6s} {'size':>5s} "
        f"{'file':>8s}  weights"
    )
    for r in rows:
        params = f"{r['params_m']}M"
        gflops = f"{r['gflops']:.2f}" if r["gflops"] is not None else "-"
        top1 = f"{r['top1']:.1f}" if r["top1"] is not None else "-"
        size = f"{r['weights_mb']:.0f}MB" if r["weights_mb"] is not None else "-"
        print(
            f"{r['name']:20s} {params:>8s} {gflops:>7s} {top1:>6s} {r['image_size']:>5d} "
            f"{size:>8s}  {r['weights']}"
        )
    return 0


def _stop_then_interrupt(token):
    def handler(signum, frame):
        if token.stop_requested:
            raise KeyboardInterrupt
        print("\nStopping after this batch… (Ctrl-C again to abort)", file=sys.stderr)
        token.stop()

    return handler


class _Printer:
    """Readable progress on stdout: one line per epoch."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted) and not self.quiet:
            skipped = f", {event.skipped_images} unreadable skipped" if event.skipped_images else ""
            if event.test_images:
                skipped += f", {event.test_images} test images held out"
            print(
                f"Training {event.model} on {event.device}: {len(event.classes)} classes, "
                f"{event.train_images} train / {event.val_images} validation images{skipped}"
            )
        elif isinstance(event, EpochEnded) and not self.quiet:
            print(
                f"epoch {event.epoch:>3}/{event.epochs}  "
                f"train loss {event.train_loss:.4f} acc {event.train_acc:6.1%}  "
                f"val loss {event.val_loss:.4f} acc {event.val_acc:6.1%}  "
                f"{event.images_per_second:7.1f} img/s  {event.seconds:5.1f}s",
                flush=True,
            )
        elif isinstance(event, OverfittingDetected | TrainingWarning | Notice) and not self.quiet:
            text = event.message if isinstance(event, Notice) else event.detail
            print(f"  ! {text}", flush=True)
        elif isinstance(event, RunFinished):
            best = (
                f"best val acc {event.best_val_acc:.1%} at epoch {event.best_epoch}"
                if event.best_epoch
                else "no epoch completed"
            )
            extra = f" ({event.message})" if event.message else ""
            print(f"Run {event.status}{extra}: {best}, {event.seconds:.1f}s", flush=True)


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        if err["loc"] and err["loc"][0] == "augment":
            return f"invalid {explain(exc, ProjectConfig)}"
        field = err["loc"][-1] if err["loc"] else "value"
        return f"invalid {str(field).replace('_', ' ')}: {err['msg']}"
    return str(exc)
