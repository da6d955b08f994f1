"""``studio COMMAND …``: the parser and the dispatch, with one module per command.

Every command raises :class:`StudioError` for bad input, printed here as one line (exit 2).
"""

from __future__ import annotations

import argparse
import sys

from studio.cli import check, evaluate, export, models, predict, runs, scan, train
from studio.errors import StudioError

COMMANDS = {
    "train": train,
    "models": models,
    "scan": scan,
    "runs": runs,
    "predict": predict,
    "export": export,
    "evaluate": evaluate,
    "check": check,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studio", description="Studio: train image classifiers. No arguments opens the app."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS.values():
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command].run(args)
    except StudioError as exc:
        print(f"studio: error: {exc}", file=sys.stderr)
        return 2
