"""Run-folder files that must survive a crash: the best model, the last checkpoint.

Weights are safetensors; the rest of the training state is a ``torch.save`` file of tensors
and plain values, read back only with ``weights_only=True``. The last checkpoint is a pair of
files named after its epoch plus a small ``last.json`` pointer written after both: a process
killed at any moment leaves the previous pair, still pointed to, intact.
"""

from __future__ import annotations

import io
import json
import platform
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save

from studio.engine.models.state import read_tensors
from studio.engine.runs import files
from studio.errors import StudioError
from studio.fileio import atomic_write_bytes, atomic_write_text


def save_weights(path: Path, state: dict[str, torch.Tensor], meta: dict[str, str]) -> None:
    tensors = {k: v.detach().cpu().contiguous() for k, v in state.items()}
    atomic_write_bytes(path, save(tensors, metadata=meta))


def load_weights(run_dir: Path, which: str = "best") -> dict[str, torch.Tensor]:
    """The ``best`` (or ``last``) weights of a run, as a state dict (check it against the
    model with :func:`~studio.engine.models.state.checked` before use)."""
    path = run_dir / files.BEST if which == "best" else run_dir / _pointer(run_dir)["weights"]
    if not path.is_file():
        raise StudioError(f"{run_dir} has no {which} model yet: train at least one epoch.")
    return read_tensors(path)


def save_best(run_dir: Path, state: dict[str, torch.Tensor], info: dict[str, Any]) -> None:
    """The best epoch's weights plus ``model.json`` (classes, model, size, normalisation)."""
    save_weights(run_dir / files.BEST, state, {"epoch": str(info.get("best_epoch", ""))})
    atomic_write_text(run_dir / files.MODEL, json.dumps(info, indent=2))


def save_last(run_dir: Path, epoch: int, weights: dict[str, torch.Tensor], state: dict) -> None:
    """Write epoch ``epoch``'s checkpoint pair, then point to it, then drop older pairs."""
    weights_name, state_name = files.last_files(epoch)
    save_weights(run_dir / weights_name, weights, {"epoch": str(epoch)})
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(run_dir / state_name, buffer.getvalue())
    pointer = {"epoch": epoch, "weights": weights_name, "state": state_name}
    atomic_write_text(run_dir / files.LAST, json.dumps(pointer))
    for old in run_dir.glob("last-*"):
        if old.name not in (weights_name, state_name):
            old.unlink(missing_ok=True)


def load_last(run_dir: Path) -> tuple[dict[str, torch.Tensor], dict]:
    """The last checkpoint's weights and training state (``weights_only=True``)."""
    pointer = _pointer(run_dir)
    weights = read_tensors(run_dir / pointer["weights"])
    try:
        state = torch.load(run_dir / pointer["state"], map_location="cpu", weights_only=True)
    except Exception as exc:
        why = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise StudioError(
            f"The last checkpoint of {run_dir} cannot be read ({pointer['state']}: {why}); "
            "the best model is kept, but this run cannot be resumed"
        ) from None
    if not isinstance(state, dict):
        raise StudioError(f"The last checkpoint of {run_dir} is damaged: cannot resume it")
    return weights, state


def last_epoch(run_dir: Path) -> int:
    """The epoch of the last checkpoint, its ``last.json`` checked (see :func:`_pointer`)."""
    return int(_pointer(run_dir)["epoch"])


def has_checkpoint(run_dir: Path) -> bool:
    return (run_dir / files.LAST).is_file()


def _pointer(run_dir: Path) -> dict:
    """``last.json``, confined to its run folder: it may name only the checkpoint pair of its
    own epoch, plain file names beside it (never ``../``, an absolute path or a link out)."""
    try:
        pointer = json.loads((run_dir / files.LAST).read_text())
    except (OSError, ValueError) as exc:
        raise StudioError(f"{run_dir} has no checkpoint to resume from.") from exc
    epoch = pointer.get("epoch") if isinstance(pointer, dict) else None
    if not isinstance(epoch, int) or isinstance(epoch, bool) or not 0 < epoch < 100_000:
        raise StudioError(f"{run_dir / files.LAST} is damaged: no valid epoch.")
    weights, state = files.last_files(epoch)
    if (pointer.get("weights"), pointer.get("state")) != (weights, state):
        raise StudioError(
            f"{run_dir / files.LAST} is refused: it names files other than its epoch's "
            f"checkpoint ({weights}, {state}) in the run folder."
        )
    folder = run_dir.resolve()
    for name in (weights, state):
        if (run_dir / name).resolve().parent != folder:
            raise StudioError(f"{run_dir / files.LAST} is refused: {name} leads outside the run.")
    return pointer


def rng_state() -> dict:
    """Every random generator the loop draws from, in a weights-only-loadable form."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    return {
        "python": random.getstate(),
        "numpy": [kind, torch.from_numpy(keys.copy()), pos, has_gauss, gauss],
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy(), pos, has_gauss, gauss))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def environment(device_name: str, world_size: int = 1, backend: str = "") -> dict[str, Any]:
    """Package versions and device, written beside every run; a data-parallel run's
    process count (``world_size``) and backend (``nccl``, ``gloo``) too."""
    from importlib.metadata import version

    from studio import __version__

    packages = ("torch", "torchvision", "albumentations", "numpy", "pillow", "safetensors")
    return {
        "studio": __version__,
        "python": platform.python_version(),
        **{name: version(name) for name in packages},
        "platform": platform.platform(),
        "device": device_name,
        "world_size": world_size,
        "backend": backend or None,
    }
