"""``studio evaluate RUN_DIR [--test]``: metrics and confusion matrix of a run."""

from __future__ import annotations

import argparse
import json
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
