"""``studio COMMAND …``: the parser and the dispatch, with one module per command.

Every command raises :class:`StudioError` for bad input, printed here as one line (exit 2);
Ctrl-C exits 130 and a closed pipe (``| head``) exits quietly, both without a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

from studio import __version__
from studio.cli import (
    check,
    compare,
    desktop,
    evaluate,
    export,
    label_issues,
    models,
    predict,
    runs,
    scan,
    train,
    watch,
)
from studio.errors import StudioError

COMMANDS = {
    "train": train,
    "models": models,
    "scan": scan,
    "runs": runs,
    "predict": predict,
    "export": export,
    "evaluate": evaluate,
    "label-issues": label_issues,
    "compare": compare,
    "check": check,
    "watch": watch,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studio", description="Studio: train image classifiers. No arguments opens the app."
    )
    parser.add_argument("--version", action="version", version=f"studio {__version__}")
    desktop.add_arguments(parser)
    sub = parser.add_subparsers(dest="command")
    for command in COMMANDS.values():
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # what launched processes rerun
    try:
        if desktop.requested(args):
            return desktop.run(args)
        if args.command is None:
            parser.error("name a command, or run studio with no arguments to open the app")
        code = COMMANDS[args.command].run(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return code
    except StudioError as exc:
        print(f"studio: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C before a run's own handler is in place, or twice
        print("studio: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # ``studio runs … | head``: the reader has gone, nothing to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the exit's flush does not fail again
        return 1
