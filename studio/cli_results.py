"""``studio predict``, ``studio export`` and ``studio evaluate``: a finished run, headless.

Exit codes: 0 done, 1 an export whose verification failed (nothing was written), 2 bad input
(one line on stderr, raised as :class:`StudioError` and printed by :func:`studio.cli.main`).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

from studio.errors import StudioError

COMMANDS = ("predict", "export", "evaluate")
EXPORT_FORMATS = ("torchscript", "onnx", "state_dict")


def add_parsers(sub: Any) -> None:
    """Add the three subcommands to ``studio``'s subparsers."""
    predict = sub.add_parser("predict", help="classify images with a run's best model")
    predict.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    predict.add_argument("images", nargs="+", type=Path, metavar="IMAGE_OR_DIR")
    predict.add_argument("--top-k", type=int, default=3, metavar="K", help="classes per image")
    predict.add_argument("--json", action="store_true", help="machine-readable output")
    predict.add_argument("--csv", type=Path, metavar="FILE", help="also write a CSV file")
    predict.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    export = sub.add_parser("export", help="export a run's best model as a verified bundle")
    export.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    export.add_argument("--format", required=True, choices=EXPORT_FORMATS)
    export.add_argument("--out", required=True, type=Path, metavar="PATH", help="new folder")
    export.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate = sub.add_parser("evaluate", help="metrics and confusion matrix of a run")
    evaluate.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    evaluate.add_argument(
        "--test", action="store_true", help="also the held-out test split (counted as a look)"
    )
    evaluate.add_argument("--json", action="store_true", help="machine-readable output")
    evaluate.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])


def run(args: argparse.Namespace) -> int:
    """Dispatch one of :data:`COMMANDS`."""
    if args.command == "predict":
        return _predict(args)
    if args.command == "export":
        return _export(args)
    return _evaluate(args)


def _require_run(run_dir: Path) -> None:
    if not run_dir.is_dir():
        raise StudioError(f"Run folder not found: {run_dir}")
    if not (run_dir / "best.safetensors").is_file():
        raise StudioError(f"{run_dir} holds no trained model yet: no epoch completed?")


def _predict(args: argparse.Namespace) -> int:
    if args.top_k < 1:
        raise StudioError("--top-k must be 1 or more.")
    _require_run(args.run_dir)
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
        print(f"{r.path}\t{shown}")
    return 0


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


def _export(args: argparse.Namespace) -> int:
    _require_run(args.run_dir)
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


def _evaluate(args: argparse.Namespace) -> int:
    _require_run(args.run_dir)
    from studio.engine.results.evaluation import (
        evaluate_split,
        evaluate_test_split,
        load_run,
        split_files,
    )

    run = load_run(args.run_dir, args.device)
    out: dict[str, Any] = {"val": evaluate_split(run)}
    if args.test and not split_files(run, "test")[0]:
        raise StudioError("This run has no test split: train with --test-fraction to hold one out.")
    if args.test:
        out["test"], out["test_looks"] = evaluate_test_split(run)
    if args.json:
        print(json.dumps(out, indent=1, ensure_ascii=False))
        return 0
    for split in ("val", "test"):
        if split in out:
            _print_metrics(split, out[split])
    if args.test:
        print(f"The test set has been looked at {out['test_looks']} time(s).")
    return 0


def _print_metrics(split: str, r: dict[str, Any]) -> None:
    name = "Validation" if split == "val" else "Test"
    print(f"{name}: accuracy {r['accuracy']:.1%} on {r['count']} images, loss {r['loss']:.4f}")
    for k, acc in r.get("top_k", {}).items():
        print(f"  top-{k} accuracy {acc:.1%}")
    width = max(len("weighted avg"), *(len(c) for c in r["classes"])) + 1
    print(f"  {'class':{width}s} precision  recall     f1  support")
    rows = [*r["per_class"], {"class": "macro avg", **r["macro"], "support": r["count"]}]
    rows.append({"class": "weighted avg", **r["weighted"], "support": r["count"]})
    for c in rows:
        print(
            f"  {c['class']:{width}s} {c['precision']:9.3f} {c['recall']:7.3f} "
            f"{c['f1']:6.3f} {c['support']:8d}"
        )
    print("  confusion (rows: true, columns: predicted):")
    for cls, row in zip(r["classes"], r["confusion"], strict=True):
        print(f"  {cls:{width}s} " + " ".join(f"{v:5d}" for v in row))
