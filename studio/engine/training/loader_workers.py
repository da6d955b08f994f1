"""How many loader processes a run starts: what was asked, capped by what the machine holds."""

from __future__ import annotations

from studio.engine.machine import Machine

Decision = tuple[int, str]  # a count and why, in plain words
WORKER_MEMORY = 1 << 30  # about what one loader process holds: torch and a few batches
MAX_AUTO_WORKERS = 8  # more rarely speeds up decoding and costs start-up time and memory
ON_CPU = "on a CPU the training process decodes the images itself, with no start-up cost"


def max_workers(machine: Machine) -> int:
    """Loader processes ``machine`` can run: all cores but one (left to the window and the
    training loop), and one per :data:`WORKER_MEMORY` of half its memory."""
    cap = machine.cores - 1
    if machine.memory_bytes is not None:
        cap = min(cap, machine.memory_bytes // 2 // WORKER_MEMORY)
    return max(0, cap)


def loader_workers(requested: int | str, device: str, machine: Machine) -> Decision:
    """The loader processes a run on ``device`` (``cpu``, ``cuda``, ``mps``) starts for
    ``requested`` (``"auto"`` or a count), and why; never more than :func:`max_workers`."""
    if requested == "auto" and device == "cpu":
        return 0, ON_CPU
    cap = max_workers(machine)
    if requested == "auto":
        count = min(MAX_AUTO_WORKERS, cap)
        return count, (
            f"on a GPU, processes decode images while it trains: all cores but one "
            f"(of {machine.cores}), at most {MAX_AUTO_WORKERS}"
        )
    if int(requested) > cap:
        return (
            cap,
            f"you asked for {requested}, but this machine runs at most {cap} ({_room(machine)})",
        )
    return int(requested), "set by you"


def _room(machine: Machine) -> str:
    cores = f"{machine.cores} cores, one kept for the window"
    if machine.memory_bytes is None:
        return cores
    gib = machine.memory_bytes / (1 << 30)
    return f"{cores}; {gib:.0f} GiB of memory, about {WORKER_MEMORY >> 30} GiB per worker"
