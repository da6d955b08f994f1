"""``studio models [--json]``: the model catalogue and each weights state."""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser("models", help="list the model catalogue and each weights state")
    models.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    from studio.engine.models.info import catalogue

    rows = catalogue()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(
        f"{'model':20s} {'params':>8s} {'GFLOPs':>7s} {'top-1':>6s} {'size':>5s} "
        f"{'file':>8s}  weights"
    )
    for r in rows:
        params = f"{r['params_m']}M"
        gflops = f"{r['gflops']:.2f}" if r["gflops"] is not None else "-"
        top1 = f"{r['top1']:.1f}" if r["top1"] is not None else "-"
        size = f"{r['weights_mb']:.0f}MB" if r["weights_mb"] is not None else "-"
        print(
            f"{r['name']:20s} {params:>8s} {gflops:>7s} {top1:>6s} {r['image_size']:>5d} "
            f"{size:>8s}  {r['weights']}"
        )
    return 0
