"""``studio --install-desktop-entry`` / ``--uninstall-desktop-entry``: the Linux menu entry."""

from __future__ import annotations

import argparse

from studio import desktop


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--install-desktop-entry",
        action="store_true",
        help="add Studio to this user's application menu (Linux: $XDG_DATA_HOME) and exit",
    )
    group.add_argument(
        "--uninstall-desktop-entry",
        action="store_true",
        help="remove the menu entry, icons and metainfo that --install-desktop-entry wrote",
    )


def requested(args: argparse.Namespace) -> bool:
    return bool(args.install_desktop_entry or args.uninstall_desktop_entry)


def run(args: argparse.Namespace) -> int:
    if args.install_desktop_entry:
        written = desktop.install()
        print(
            f"Installed {desktop.APP_ID}: {written[0]} and {len(written) - 1} icon/metadata files."
        )
        print(f"Menu entry starts: {' '.join(desktop.launcher())}")
    else:
        removed = desktop.uninstall()
        print(f"Removed {len(removed)} files." if removed else "No Studio desktop entry found.")
    return 0
