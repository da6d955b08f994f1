"""Weights files read safely and checked before use: exact keys and shapes, dtypes, finite values.

Every weights file (a user's ``.pth``/``.pt``/``.safetensors``, a run's best model or last
checkpoint) goes through :func:`read_tensors` (safetensors, or ``torch.load`` with
``weights_only=True``: pickled code never runs) and :func:`checked`, which refuses with one line
that names the first mismatch, instead of loading a part or casting silently.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from studio.errors import StudioError

SHOWN = 3  # tensor names quoted in a message


def read_tensors(path: Path) -> dict[str, Any]:
    """The tensors stored in ``path``; one-line :class:`StudioError` for a missing, truncated
    or pickled (code-carrying) file."""
    path = Path(path)
    if not path.is_file():
        raise StudioError(f"Weights file not found: {path}")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        with warnings.catch_warnings():  # torch's notes on odd pickles: our own line follows
            warnings.simplefilter("ignore")
            data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise StudioError(
            f"{path.name} is refused: it holds pickled Python objects, not just tensors, and "
            "Studio never runs pickled code; save model.state_dict() or a .safetensors file"
        ) from None
    except Exception as exc:
        why = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise StudioError(
            f"Cannot read weights file {path.name} (damaged or truncated?): {why}"
        ) from None
    if isinstance(data, dict) and isinstance(data.get("state_dict"), dict):
        data = data["state_dict"]
    if not isinstance(data, dict) or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise StudioError(f"{path.name} holds no state dict of tensors.")
    return data


def checked(
    own: dict[str, torch.Tensor], state: dict[str, Any], source: str, ignore: str | None = None
) -> dict[str, torch.Tensor]:
    """``state`` if it fits ``own`` (a model's ``state_dict()``) exactly: the same tensor names,
    shapes, kinds of dtype (floating or integer) and finite values. Names under ``ignore.``
    (a head Studio replaces) are dropped from both sides. Else one line naming the mismatch."""
    prefix = f"{ignore}." if ignore else None

    def kept(keys: Any) -> list[str]:
        return [k for k in keys if prefix is None or not k.startswith(prefix)]

    state = {k: state[k] for k in kept(state)}
    wanted = kept(own)
    missing = [k for k in wanted if k not in state]
    extra = [k for k in state if k not in own]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"{len(missing)} tensors missing ({_names(missing)})")
        if extra:
            parts.append(f"{len(extra)} unknown ({_names(extra)})")
        raise StudioError(
            f"{source} does not fit this architecture ({len(wanted)} tensors): "
            f"{' and '.join(parts)}; weights of another model?"
        )
    for name in wanted:
        mine, theirs = own[name], state[name]
        if mine.shape != theirs.shape:
            raise StudioError(
                f"{source} does not fit this architecture: {name} has shape "
                f"{list(theirs.shape)}, this model needs {list(mine.shape)}"
            )
        if mine.is_floating_point() != theirs.is_floating_point():
            raise StudioError(
                f"{source}: {name} is {str(theirs.dtype).removeprefix('torch.')}, this model "
                f"needs {str(mine.dtype).removeprefix('torch.')} values"
            )
        if theirs.is_floating_point() and not bool(torch.isfinite(theirs).all()):
            raise StudioError(f"{source}: {name} holds NaN or infinite values; the file is damaged")
    return state


def load_checked(model: nn.Module, state: dict[str, Any], source: str) -> None:
    """Load ``state`` into ``model`` after :func:`checked` (every tensor, nothing skipped)."""
    model.load_state_dict(checked(model.state_dict(), state, source))


def _names(keys: list[str]) -> str:
    """The first few names, learnt tensors before bookkeeping ones (``num_batches_tracked``)."""
    shown = sorted(keys, key=lambda k: k.endswith("num_batches_tracked"))[:SHOWN]
    return ", ".join(shown) + ("…" if len(keys) > SHOWN else "")
