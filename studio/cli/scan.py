"""``studio scan DIR…``: check image folders: counts, broken files, duplicates."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    scan = sub.add_parser("scan", help="check image folders: counts, broken files, duplicates")
    scan.add_argument("folders", nargs="+", type=Path, metavar="DIR", help="image folder(s)")
    scan.add_argument("--json", action="store_true", help="print a machine-readable report")
    scan.add_argument(
        "--no-read",
        action="store_true",
        help="judge folders and names only: no decoding or hashing (fast)",
    )


def run(args: argparse.Namespace) -> int:
    from studio.engine.data.scan_report import run_scan

    return run_scan(args.folders, as_json=args.json, read_files=not args.no_read)
