"""``studio export RUN_DIR --format F --out PATH``: a run's best model as a verified bundle.

Exit code 1: the verification failed and nothing was written."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from studio.cli.run_folder import require_run

EXPORT_FORMATS = ("torchscript", "onnx", "state_dict")


def add_parser(sub: argparse._SubParsersAction) -> None:
    export = sub.add_parser("export", help="export a run's best model as a verified bundle")
    export.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    export.add_argument("--format", required=True, choices=EXPORT_FORMATS)
    export.add_argument("--out", required=True, type=Path, metavar="PATH", help="new folder")
    export.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    require_run(args.run_dir)
    from studio.engine.results.export import VerificationFailed, export

    try:
        report = export(args.run_dir, args.format, args.out)
    except VerificationFailed as exc:
        print(f"studio: error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report.to_dict(), indent=1))
    else:
        print(
            f"Exported {report.format} to {report.out}: verified on {report.images} validation "
            f"images, max abs difference {report.max_abs_diff:.2g}, top-1 agreement "
            f"{report.agreement:.0%} ({report.seconds:.1f} s)."
        )
    return 0
