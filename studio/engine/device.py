"""Choose where to train: CUDA, then Apple's MPS, then the CPU."""

from __future__ import annotations

import torch

from studio.errors import StudioError


def pick_device(preference: str = "auto") -> torch.device:
    """Return the device for ``preference`` (``auto``, ``cuda``, ``mps`` or ``cpu``)."""
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if preference == "cuda" and not torch.cuda.is_available():
        raise StudioError("No CUDA GPU is available here; use --device auto or cpu.")
    if preference == "mps" and not torch.backends.mps.is_available():
        raise StudioError("Apple's MPS is not available here; use --device auto or cpu.")
    return torch.device(preference)


def device_label(device: torch.device) -> str:
    """A readable name: the GPU's model, or ``CPU``."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return "CPU"
