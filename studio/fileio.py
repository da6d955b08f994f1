"""Atomic file writes (temp file, fsync, rename): a crash never leaves half a file.

Used by every layer: the config's project files and the engine's run folders. Files get the
permissions the user's umask gives (as ``open()`` would), not the temp file's private 0600; the
temp files a killed write leaves (``.NAME.XXXX.tmp``) are removed by :func:`remove_stale_temps`
when their folder is next used.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

TEMP_SUFFIX = ".tmp"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            if os.name == "posix":
                os.fchmod(handle.fileno(), _mode_for(path))
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def remove_stale_temps(
    folder: Path, name: str = "*", older_than: float = 0.0, suffix: str = TEMP_SUFFIX
) -> list[Path]:
    """Remove the temp files (``.NAME.XXXX`` + ``suffix``) that interrupted writes of ``name``
    (any file by default) left in ``folder``, those not touched for ``older_than`` seconds (0
    where no other process can be writing, e.g. a locked run folder); returns the removed."""
    removed = []
    now = time.time()
    try:
        candidates = list(Path(folder).glob(f".{name}.*{suffix}"))
    except OSError:
        return removed
    for path in candidates:
        try:
            if path.is_file() and now - path.stat().st_mtime >= older_than:
                path.unlink()
                removed.append(path)
        except OSError:
            pass  # gone meanwhile, or read-only media: nothing to tidy
    return removed


def _mode_for(path: Path) -> int:
    """An existing file's permissions, else those the umask leaves of 0666."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~current_umask()


def current_umask() -> int:
    """The process's umask, read without changing it where the platform allows (a change,
    even a brief one, would race with other threads creating files)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
