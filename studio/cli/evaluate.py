"""``studio evaluate RUN_DIR [--test] [--learning-curve]``: metrics and confusion matrix of a
run, the held-out test split (a counted look), and whether more images would help."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from studio.cli.run_folder import require_run
from studio.errors import StudioError


def add_parser(sub: argparse._SubParsersAction) -> None:
    evaluate = sub.add_parser("evaluate", help="metrics and confusion matrix of a run")
    evaluate.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    evaluate.add_argument(
        "--test", action="store_true", help="also the held-out test split (counted as a look)"
    )
    evaluate.add_argument(
        "--learning-curve",
        action="store_true",
        help="also per-class learning curves: would more images help? (quick models)",
    )
    evaluate.add_argument("--json", action="store_true", help="machine-readable output")
    evaluate.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])


def run(args: argparse.Namespace) -> int:
    require_run(args.run_dir)
    from studio.engine.results.evaluation import (
        evaluate_split,
        evaluate_test_split,
        load_run,
        split_files,
    )

    run = load_run(args.run_dir, args.device)
    writable = os.access(args.run_dir, os.W_OK)
    if not writable:
        print(
            f"note: {args.run_dir} is read-only: the results are shown, not saved", file=sys.stderr
        )
    out: dict[str, Any] = {"val": evaluate_split(run, save=writable)}
    if args.test and not split_files(run, "test")[0]:
        raise StudioError("This run has no test split: train with --test-fraction to hold one out.")
    if args.test:
        out["test"], out["test_looks"] = evaluate_test_split(run)
    if args.learning_curve:
        from studio.engine.results.learning_curve import learning_curve

        out["learning_curve"] = learning_curve(run.config, cache_dir=args.run_dir).to_dict()
    if args.json:
        print(json.dumps(out, indent=1, ensure_ascii=False))
        return 0
    for split in ("val", "test"):
        if split in out:
            _print_metrics(split, out[split])
    if args.test:
        from studio.engine.results import test_seal

        project = test_seal.project_of(args.run_dir)
        print(f"The test set of this run has been looked at {out['test_looks']} time(s).")
        if project is not None:
            print(test_seal.describe(project))
    if args.learning_curve:
        _print_curve(out["learning_curve"])
    return 0


def _print_curve(curve: dict[str, Any]) -> None:
    shares = "  ".join(f"{f:>5.0%}" for f in curve["fractions"])
    print(f"Learning curves ({curve['method']}, {curve['seconds']:.1f} s): {curve['summary']}")
    print(f"  {'share of training images':26s} {shares}")
    overall = "  ".join(f"{a:5.1%}" for a in curve["overall"])
    print(f"  {'all classes':26s} {overall}")
    for c in curve["classes"]:
        accuracy = "  ".join(f"{a:5.1%}" for a in c["accuracy"])
        print(f"  {c['name']:26s} {accuracy}   {c['text']}")


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
