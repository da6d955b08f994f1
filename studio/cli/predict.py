"""``studio predict RUN_DIR IMAGE_OR_DIR…``: classify images with a run's best model."""

from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path
from typing import Any

from studio.cli.run_folder import require_run
from studio.errors import StudioError


def add_parser(sub: argparse._SubParsersAction) -> None:
    predict = sub.add_parser("predict", help="classify images with a run's best model")
    predict.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    predict.add_argument("images", nargs="+", type=Path, metavar="IMAGE_OR_DIR")
    predict.add_argument("--top-k", type=int, default=3, metavar="K", help="classes per image")
    predict.add_argument("--json", action="store_true", help="machine-readable output")
    predict.add_argument("--csv", type=Path, metavar="FILE", help="also write a CSV file")
    predict.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])


def run(args: argparse.Namespace) -> int:
    if args.top_k < 1:
        raise StudioError("--top-k must be 1 or more.")
    require_run(args.run_dir)
    from studio.engine.results.evaluation import expand_images, predict

    paths = expand_images(args.images)
    if not paths:
        raise StudioError("No image files found in the given folders.")
    results = predict(args.run_dir, paths, args.top_k, args.device)
    named = {p.resolve() for p in args.images if p.is_file()}
    for r in results:
        if r.error and r.path.resolve() in named:
            raise StudioError(f"Cannot read {r.path}: {r.error}")
    if args.csv:
        _write_csv(args.csv, results, args.top_k)
    if args.json:
        print(json.dumps([r.to_dict() for r in results], indent=1, ensure_ascii=False))
        return 0
    for r in results:
        shown = "  ".join(f"{c} {p:.1%}" for c, p in r.top) if not r.error else f"error: {r.error}"
        print(f"{escaped(str(r.path))}\t{escaped(shown)}")
    return 0


_ESCAPES = str.maketrans({"\n": "\\n", "\r": "\\r", "\t": "\\t"})


def escaped(text: str) -> str:
    """``text`` on one line without tabs: a newline, return or tab in a file name prints as
    ``\\n``, ``\\r``, ``\\t``, so every image stays one line of two columns (``--json`` and
    ``--csv`` keep names exactly)."""
    return text.translate(_ESCAPES)


def _write_csv(path: Path, results: list, top_k: int) -> None:
    from studio.fileio import atomic_write_text

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header = ["path"]
    for k in range(1, top_k + 1):
        header += [f"class_{k}", f"confidence_{k}"]
    writer.writerow([*header, "error"])
    for r in results:
        row: list[Any] = [str(r.path)]
        for k in range(top_k):
            row += [r.top[k][0], f"{r.top[k][1]:.6f}"] if k < len(r.top) else ["", ""]
        writer.writerow([*row, r.error or ""])
    try:
        atomic_write_text(path, buffer.getvalue())
    except OSError as exc:
        raise StudioError(f"Cannot write {path}: {exc.strerror or exc}") from None
