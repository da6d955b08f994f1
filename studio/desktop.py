"""Linux desktop integration for the current user: the menu entry, icons and AppStream data.

``studio --install-desktop-entry`` copies them under ``$XDG_DATA_HOME`` (default
``~/.local/share``) with ``Exec`` pointing at the ``studio`` that ran the command;
``--uninstall-desktop-entry`` removes exactly those files. No Qt is needed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from studio.errors import StudioError
from studio.fileio import atomic_write_bytes, atomic_write_text
from studio.resources import resource_path

APP_ID = "app.studio.Studio"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def data_home() -> Path:
    """``$XDG_DATA_HOME``, or ``~/.local/share`` as the XDG spec says when it is unset."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if os.path.isabs(value) else Path.home() / ".local" / "share"


def launcher() -> list[str]:
    """The command that starts this installation of Studio, as absolute paths."""
    if getattr(sys, "frozen", False):  # a PyInstaller bundle
        return [str(Path(sys.executable).absolute())]
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.name == "studio":
        found = shutil.which(str(script))
        if found:
            return [str(Path(found).absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "studio"]


def _quote(arg: str) -> str:
    """One ``Exec`` argument, quoted as the Desktop Entry spec asks when it must be."""
    if re.fullmatch(r"[A-Za-z0-9_./+,:=@-]+", arg):
        return arg
    escaped = re.sub(r'(["`$\\])', r"\\\1", arg).replace("%", "%%")
    return f'"{escaped}"'.replace("\\", "\\\\")  # the key's value is itself unescaped once


def installed_files(root: Path | None = None) -> list[Path]:
    """Every file :func:`install` writes, so :func:`uninstall` removes exactly these."""
    root = root or data_home()
    icons = root / "icons" / "hicolor"
    return [
        root / "applications" / f"{APP_ID}.desktop",
        root / "metainfo" / f"{APP_ID}.metainfo.xml",
        icons / "scalable" / "apps" / f"{APP_ID}.svg",
        *(icons / f"{s}x{s}" / "apps" / f"{APP_ID}.png" for s in ICON_SIZES),
    ]


def install(root: Path | None = None) -> list[Path]:
    """Install the entry, icons and metainfo for the current user; returns the files written."""
    root = root or data_home()
    desktop, metainfo, svg, *pngs = installed_files(root)
    entry = resource_path("linux", f"{APP_ID}.desktop").read_text(encoding="utf-8")
    command = " ".join(_quote(a) for a in launcher())
    entry = re.sub(r"^Exec=.*$", f"Exec={command}", entry, count=1, flags=re.MULTILINE)
    try:
        atomic_write_text(desktop, entry)
        atomic_write_bytes(metainfo, _read("linux", f"{APP_ID}.metainfo.xml"))
        atomic_write_bytes(svg, _read("icons", "studio.svg"))
        for size, png in zip(ICON_SIZES, pngs, strict=True):
            atomic_write_bytes(png, _read("icons", "png", f"studio-{size}.png"))
    except OSError as exc:
        raise StudioError(f"cannot install the desktop entry under {root}: {exc}") from exc
    _refresh_caches(root)
    return [desktop, metainfo, svg, *pngs]


def uninstall(root: Path | None = None) -> list[Path]:
    """Remove what :func:`install` wrote; returns the files that were there."""
    root = root or data_home()
    removed = []
    for path in installed_files(root):
        try:
            path.unlink()
            removed.append(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise StudioError(f"cannot remove {path}: {exc}") from exc
    _refresh_caches(root)
    return removed


def _read(*parts: str) -> bytes:
    path = resource_path(*parts)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise StudioError(f"this installation lacks {path.name}: {exc}") from exc


def _refresh_caches(root: Path) -> None:
    """Tell the menu and the icon theme about the change, where their tools are installed."""
    for tool, args in (
        ("update-desktop-database", ["-q", str(root / "applications")]),
        ("gtk-update-icon-cache", ["-q", "-t", "-f", str(root / "icons" / "hicolor")]),
    ):
        exe = shutil.which(tool)
        if exe and Path(args[-1]).is_dir():
            subprocess.run([exe, *args], check=False, capture_output=True, timeout=30)
