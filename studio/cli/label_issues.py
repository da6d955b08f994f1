"""``studio label-issues DIR|PROJECT [--folds K] [--json]``: images whose label looks wrong."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from studio.errors import StudioError


def add_parser(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser(
        "label-issues",
        help="rank images by how likely their label is wrong (out-of-fold, cleanlab)",
    )
    cmd.add_argument(
        "target", type=Path, metavar="DIR|PROJECT", help="a folder of class folders, or a project"
    )
    cmd.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    cmd.add_argument("--json", action="store_true", help="machine-readable output")
    cmd.add_argument(
        "--all", action="store_true", help="list every image, not only the likely errors"
    )
    cmd.add_argument("--top", type=int, default=0, metavar="N", help="list at most N images")
    cmd.add_argument(
        "--image-size",
        type=int,
        default=24,
        metavar="PX",
        help="image size of the quick small-CNN retrains (models without pre-trained weights)",
    )
    cmd.add_argument("--epochs", type=int, default=6, help="epochs of each quick retrain")


def project_config(target: Path):
    """The settings to judge ``target`` by, and where a project keeps its feature cache."""
    from studio.config import ProjectConfig
    from studio.config.io import is_project, load_project

    if is_project(target):
        project = load_project(target)
        missing = project.missing_sources()
        if missing:
            raise StudioError(
                f"image folder {missing[0]} is missing: open the project in the app to relocate it"
            )
        return project.config, project.folder / "cache"
    if not target.is_dir():
        raise StudioError(f"Folder not found: {target}")
    config = ProjectConfig()
    config.data.sources = [target]
    return config, None


def run(args: argparse.Namespace) -> int:
    from studio.engine.results.label_issues import find_label_issues
    from studio.engine.results.quick_models import QuickSettings

    if not 1 <= args.image_size <= 1024 or not 1 <= args.epochs <= 100:
        raise StudioError("--image-size must be 1–1024 and --epochs 1–100")
    config, cache = project_config(args.target)
    quick = QuickSettings(image_size=args.image_size, epochs=args.epochs, seed=config.train.seed)
    try:
        report = find_label_issues(
            config, args.folds, sink=_StageLine(), cache_dir=cache, quick=quick
        )
    except KeyboardInterrupt:  # Ctrl-C: nothing was written, nothing to clean up
        print("Cancelled.", file=sys.stderr)
        return 130
    shown = report.images if args.all else report.flagged
    if args.top > 0:
        shown = shown[: args.top]
    if args.json:
        out = report.to_dict()
        out["images"] = [im.to_dict() for im in shown]
        print(json.dumps(out, indent=1, ensure_ascii=False))
        return 0
    print(report.summary())
    if shown:
        width = max(len(c) for c in report.classes)
        print(f"{'score':>6}  {'given':{width}s}  {'suggested':{width + 7}s}  path")
        for im in shown:
            suggestion = f"{im.suggested} ({im.confidence:.0%})"
            print(f"{im.score:6.3f}  {im.given:{width}s}  {suggestion:{width + 7}s}  {im.path}")
    return 0


class _StageLine:
    """Progress on stderr: one line each time the work moves to another stage."""

    def __init__(self) -> None:
        self.stage = ""

    def __call__(self, event) -> None:
        stage = getattr(event, "stage", "")
        if stage and stage != self.stage:
            self.stage = stage
            print(f"{stage}…", file=sys.stderr, flush=True)
