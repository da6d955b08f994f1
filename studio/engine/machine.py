"""What this machine can run: cores, memory and the accelerator, for the settings resolver."""

from __future__ import annotations

import dataclasses
import os
from typing import Literal

Accelerator = Literal["cpu", "cuda", "mps"]


@dataclasses.dataclass(frozen=True)
class Machine:
    """The machine a run is set up for. ``memory_bytes`` is ``None`` where it is unknown.

    ``accelerator`` is what ``device = "auto"`` picks (``cpu``, ``cuda`` or ``mps``);
    ``accelerator_memory`` its memory in bytes where known (a CUDA GPU)."""

    cores: int
    memory_bytes: int | None
    accelerator: Accelerator
    accelerator_memory: int | None = None

    @classmethod
    def here(cls, accelerator: Accelerator) -> Machine:
        """This machine's cores (those this process may use) and physical memory."""
        try:
            cores = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):  # macOS and Windows have no affinity mask
            cores = os.cpu_count() or 1
        try:
            memory: int | None = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (AttributeError, OSError, ValueError):
            memory = None
        return cls(cores=max(1, cores), memory_bytes=memory, accelerator=accelerator)


def detect() -> Machine:
    """This machine, with the accelerator torch finds. Imports torch: keep it off the GUI
    thread."""
    from studio.engine.device import pick_device

    machine = Machine.here(pick_device("auto").type)  # type: ignore[arg-type]
    if machine.accelerator != "cuda":
        return machine
    import torch

    memory = torch.cuda.get_device_properties(0).total_memory
    return dataclasses.replace(machine, accelerator_memory=memory)
