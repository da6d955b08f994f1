"""``studio compare RUN_A RUN_B [--json]``: is B really better than A? A paired test."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from studio.cli.run_folder import require_run


def add_parser(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser(
        "compare",
        help="compare two runs on the same validation images (bootstrap CI, McNemar's test)",
    )
    cmd.add_argument("run_a", type=Path, metavar="RUN_A")
    cmd.add_argument("run_b", type=Path, metavar="RUN_B")
    cmd.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    from studio.engine.results.paired_compare import compare_runs

    require_run(args.run_a)
    require_run(args.run_b)
    result = compare_runs(args.run_a, args.run_b)
    if args.json:
        print(json.dumps(result.to_dict(), indent=1))
        return 0
    print(
        f"{result.a}: {result.accuracy_a:.1%}   {result.b}: {result.accuracy_b:.1%}   "
        f"on the same {result.images} validation images "
        f"({result.a_only} only {result.a} gets right, {result.b_only} only {result.b})"
    )
    print(result.text)
    return 0
