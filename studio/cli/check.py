"""``studio check DIR|PROJECT [--json]``: the pre-flight check, seconds before a long run.

It builds the settings a run would use (the same resolver as ``studio train``), then checks
the initial loss, that one batch can be learnt, that real labels beat shuffled ones, that
augmented images keep their class and that the learning rate is usable. Exit 0 when every
check passes, 1 when one fails (each failure names the likely cause and the fix).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from studio.errors import StudioError


def add_parser(sub: argparse._SubParsersAction) -> None:
    check = sub.add_parser(
        "check", help="pre-flight check of data, model and settings before a long run"
    )
    check.add_argument("target", type=Path, metavar="DIR|PROJECT", help="image folder or project")
    check.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.FIELD=VALUE",
        help="a setting to check, as in studio train (e.g. train.learning_rate=0.01)",
    )
    check.add_argument("--json", action="store_true", help="print a machine-readable report")


def run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from studio.cli.train import _with_overrides, resolved
    from studio.config import ProjectConfig
    from studio.config.io import PROJECT_FILE, load_project
    from studio.engine.data.index import Edits, trainable_index
    from studio.engine.training.resolve import adopt

    if not args.target.is_dir():
        raise StudioError(f"{args.target}: no such folder")
    if (args.target / PROJECT_FILE).is_file():
        config = adopt(load_project(args.target).config)
    else:
        config = ProjectConfig.model_validate({"data": {"sources": [args.target.resolve()]}})
    try:
        config = _with_overrides(config, args.set, None)
    except (ValidationError, ValueError) as exc:
        raise StudioError(str(exc).splitlines()[0]) from None
    index, _ = trainable_index(config.data.sources, Edits.of(config.data))
    config = resolved(config, index).config
    from studio.engine.training.preflight import TITLES, preflight

    def progress(event) -> None:
        if not args.json and event.passed is not None:
            mark = "ok  " if event.passed else "FAIL"
            print(f"  {mark} {TITLES[event.check]}: {event.detail}", flush=True)

    if not args.json:
        print(f"Pre-flight check of {args.target} ({config.model.name}, {len(index)} images)")
    report = preflight(config, sink=progress)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        for result in report.results:
            if not result.passed:
                print(f"  ! {TITLES[result.name]}: {result.fix}", file=sys.stdout)
        verdict = "all checks passed" if report.passed else "some checks failed"
        print(f"{verdict} in {report.seconds:.1f} s")
    return 0 if report.passed else 1
