"""``studio runs PROJECT_DIR [--json]``: a project's run history, each run with the
coach's verdict."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path

from studio.errors import StudioError


def add_parser(sub: argparse._SubParsersAction) -> None:
    runs = sub.add_parser("runs", help="list a project's runs")
    runs.add_argument("project", type=Path, metavar="PROJECT_DIR", help="a Studio project folder")
    runs.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    return _runs(args.project, args.json)


def _runs(folder: Path, as_json: bool) -> int:
    from studio.config.io import PROJECT_FILE, is_project
    from studio.engine.runs.store import RunStore

    if not is_project(folder):
        raise StudioError(f"{folder} is not a Studio project (no {PROJECT_FILE} in it)")
    with RunStore(folder) as store:
        records = store.runs()
        if as_json:
            rows = []
            for r in records:
                row = r.to_dict()
                row["epochs"] = store.epochs(r.id)
                rows.append(row)
            print(json.dumps(rows, indent=2))
            return 0
    if not records:
        print("No runs yet.")
        return 0
    print(f"{'id':>4}  {'status':11s} {'started':16s} {'best val acc':>12s}  {'model':16s} name")
    for r in records:
        started = datetime.fromtimestamp(r.started_at).strftime("%Y-%m-%d %H:%M")
        acc = r.best_metrics.get("val_acc")
        best = f"{acc:.1%} @{r.best_epoch}" if acc is not None else "-"
        print(f"{r.id:>4}  {r.status:11s} {started:16s} {best:>12s}  {r.model:16s} {r.name}")
        if r.verdict:
            print(f"      coach: {r.verdict}")
    from studio.engine.results.test_seal import describe

    print(describe(folder))
    return 0
