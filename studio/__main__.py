"""``studio`` / ``python -m studio``: no arguments opens the app, subcommands run headless."""

from __future__ import annotations

import multiprocessing
import sys


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        from studio.qt.app import run

        return run()
    if argv == ["--smoke-test"]:  # hidden: packaging/build.sh checks a bundle with it
        from studio.qt.smoke import run as smoke_test

        return smoke_test()
    try:
        from studio.cli.main import main as cli_main
    except KeyboardInterrupt:  # Ctrl-C while the libraries load
        return 130
    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
