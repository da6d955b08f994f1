"""``studio train PROJECT_DIR`` and ``studio runs PROJECT_DIR [--json]``: projects headless.

A project trains with exactly the settings saved in its ``studio-project.toml`` (as the app
would), into ``PROJECT_DIR/runs/<date-time>``, and is recorded in the project's run history.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path

from studio.errors import StudioError

# options that are machine settings, not project settings: allowed with PROJECT_DIR
_MACHINE_OPTIONS = ("device", "workers", "out", "quiet")
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


def extend_parser(sub: argparse._SubParsersAction, train: argparse.ArgumentParser) -> None:
    """Add the ``PROJECT_DIR`` argument to ``train`` and the ``runs`` command."""
    train.add_argument(
        "project",
        nargs="?",
        type=Path,
        metavar="PROJECT_DIR",
        help="a Studio project folder: train with its saved settings and record the run in "
        "its history (instead of --data and the other settings)",
    )
    runs = sub.add_parser("runs", help="list a project's runs")
    runs.add_argument("project", type=Path, metavar="PROJECT_DIR", help="a Studio project folder")
    runs.add_argument("--json", action="store_true", help="machine-readable output")


def handles(args: argparse.Namespace) -> bool:
    """Whether these arguments are for this module."""
    return args.command == "runs" or (args.command == "train" and args.project is not None)


def run(args: argparse.Namespace) -> int:
    if args.command == "runs":
        return _runs(args.project, args.json)
    return _train_project(args)


def _train_project(args: argparse.Namespace) -> int:
    from studio.cli import build_parser
    from studio.config.io import load_project

    if args.data:
        raise StudioError("give either PROJECT_DIR or --data, not both")
    defaults = build_parser().parse_args(["train", str(args.project)])
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
    from studio.cli import run_training
    from studio.engine.runs.files import new_run_dir
    from studio.engine.runs.store import RunRecorder, RunStore

    run_dir = args.out or new_run_dir(project.folder / "runs")
    with RunStore(project.folder) as store:
        recorder = RunRecorder(store, config.model_dump(mode="json"), run_dir)
        return run_training(config, run_dir, args.quiet, record=recorder)


def _runs(folder: Path, as_json: bool) -> int:
    from studio.config.io import PROJECT_FILE, is_project
    from studio.engine.runs.store import RunStore

    if not is_project(folder):
        raise StudioError(f"{folder} is not a Studio project (no {PROJECT_FILE} in it)")
    with RunStore(folder) as store:
        records = store.runs()
        if as_json:
            rows = []
            for r in records:
                row = r.to_dict()
                row["epochs"] = store.epochs(r.id)
                rows.append(row)
            print(json.dumps(rows, indent=2))
            return 0
    if not records:
        print("No runs yet.")
        return 0
    print(f"{'id':>4}  {'status':11s} {'started':16s} {'best val acc':>12s}  {'model':16s} name")
    for r in records:
        started = datetime.fromtimestamp(r.started_at).strftime("%Y-%m-%d %H:%M")
        acc = r.best_metrics.get("val_acc")
        best = f"{acc:.1%} @{r.best_epoch}" if acc is not None else "-"
        print(f"{r.id:>4}  {r.status:11s} {started:16s} {best:>12s}  {r.model:16s} {r.name}")
    return 0
