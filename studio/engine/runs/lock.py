"""One owner per run folder: a lock file holding the owner's pid, taken when a run starts and
removed when it ends. A lock whose process is gone (killed, crashed) is stale and taken over."""

from __future__ import annotations

import os
from pathlib import Path

from studio.engine.runs import files
from studio.errors import StudioError


def acquire(run_dir: Path) -> Path:
    """Take ``run_dir``'s lock for this process; :class:`StudioError` when a live process
    holds it."""
    path = run_dir / files.LOCK
    for _ in range(2):  # a stale lock is removed once, then taken like a free one
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            owner = _owner(path)
            if owner is not None and alive(owner):
                raise StudioError(
                    f"{run_dir} is in use by another training (process {owner}); "
                    "wait for it to end or choose another run folder"
                ) from None
            path.unlink(missing_ok=True)
            continue
        except OSError as exc:
            raise StudioError(f"Cannot write to the run folder {run_dir}: {exc.strerror}") from None
        with os.fdopen(fd, "w") as file:
            file.write(f"{os.getpid()}\n")
        return path
    raise StudioError(f"{run_dir} is in use by another training; choose another run folder")


def release(path: Path) -> None:
    """Remove a lock this process took."""
    if _owner(path) == os.getpid():
        path.unlink(missing_ok=True)


def _owner(path: Path) -> int | None:
    try:
        return int(path.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None  # unreadable or half-written: treated as stale


def alive(pid: int) -> bool:
    """Whether process ``pid`` of this machine still runs (asked without signalling it)."""
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill would end the process there
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # query only
        if handle:
            ctypes.windll.kernel32.CloseHandle(handle)
        return bool(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    except OSError:
        return False
    return True
