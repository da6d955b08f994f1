"""Data-parallel training on PyTorch's own engine: ``torchrun`` starts one process per GPU (or
CPU process), each trains a shard of every batch, ``DistributedDataParallel`` averages the
gradients.

A process learns its place from torchrun's environment (``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``); without it nothing here applies and training is the one-process loop. The
group uses NCCL on CUDA and gloo on the CPU, with a timeout so a stuck peer never hangs the
others for ever. Rank 0 alone writes the run folder; the others train and stay silent. Every
decision that ends a loop (a stop request, a NaN loss, early stopping) is taken together,
through the same small ``all_reduce`` that sums the metrics, so no process waits on one that
left.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import signal
import threading
from collections.abc import Sequence

import torch
from torch import nn

from studio.errors import StudioError

TIMEOUT = datetime.timedelta(minutes=5)  # a collective waiting longer than this fails


class PeerLost(Exception):
    """Another process of the run ended (killed, crashed) or the launcher ended this one."""


@dataclasses.dataclass(frozen=True)
class World:
    """This process's place in a data-parallel run."""

    rank: int
    size: int
    local_rank: int
    local_size: int
    backend: str = ""  # nccl or gloo, once joined

    @property
    def main(self) -> bool:
        return self.rank == 0

    def sum(self, values: torch.Tensor | Sequence[float], device: torch.device) -> list[float]:
        """``values`` summed over every process (one ``all_reduce``, one host sync)."""
        import torch.distributed as dist

        tensor = torch.as_tensor(values, dtype=torch.float64, device=device)
        try:
            dist.all_reduce(tensor)
        except RuntimeError as exc:  # gloo/NCCL: a peer closed its connection or timed out
            raise PeerLost(str(exc).splitlines()[0]) from exc
        return tensor.tolist()

    def any(self, flag: bool, device: torch.device) -> bool:
        """Whether ``flag`` is true in any process."""
        return self.sum([float(flag)], device)[0] > 0

    def share_buffers(self, model: nn.Module) -> None:
        """Rank 0's buffers (batch-norm statistics) in every process, so that validation and
        the checkpoint see the same model everywhere."""
        import torch.distributed as dist

        try:
            for buffer in model.buffers():
                dist.broadcast(buffer, 0)
        except RuntimeError as exc:
            raise PeerLost(str(exc).splitlines()[0]) from exc

    def describe(self) -> dict[str, int | str]:
        """What ``environment.json`` records."""
        return {"world_size": self.size, "backend": self.backend, "rank": self.rank}


_LOST = ("connection closed", "connection reset", "broken pipe", "timed out", "nccl", "gloo")


def lost_peer(exc: BaseException) -> bool:
    """Whether ``exc`` says another process is gone (a collective inside
    ``DistributedDataParallel``'s backward pass failed or timed out)."""
    import torch.distributed as dist

    if isinstance(exc, PeerLost | dist.DistError):
        return True
    return isinstance(exc, RuntimeError) and any(m in str(exc).lower() for m in _LOST)


def ending() -> None:
    """The run is ending after a lost peer: a SIGTERM from the launcher now must not cut
    short the writing of its end."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def world() -> World | None:
    """This process's place when torchrun started it, else ``None``."""
    if "WORLD_SIZE" not in os.environ or "RANK" not in os.environ:
        return None
    size = int(os.environ["WORLD_SIZE"])
    return World(
        rank=int(os.environ["RANK"]),
        size=size,
        local_rank=int(os.environ.get("LOCAL_RANK", "0")),
        local_size=int(os.environ.get("LOCAL_WORLD_SIZE", str(size))),
    )


def is_main() -> bool:
    """Whether this process writes the run (rank 0, or the only process)."""
    place = world()
    return place is None or place.main


def join(place: World, device: torch.device) -> tuple[World, torch.device]:
    """Join the process group (NCCL on CUDA, gloo on the CPU) and return this process's
    device: the GPU of its local rank, or the CPU."""
    import torch.distributed as dist

    if device.type == "mps":
        raise StudioError("Data-parallel training runs on CUDA GPUs or on the CPU, not on MPS.")
    if device.type == "cuda":
        gpus = torch.cuda.device_count()
        if place.local_size > gpus:
            raise StudioError(
                f"{place.local_size} processes on this machine but only {gpus} GPU(s): "
                f"start at most {gpus} (--nproc-per-node / --gpus)."
            )
        device = torch.device("cuda", place.local_rank)
        torch.cuda.set_device(device)
        backend = "nccl"
    else:
        check_cpu_processes(place.local_size)
        backend = "gloo"
    if not dist.is_available() or (backend == "gloo" and not dist.is_gloo_available()):
        raise StudioError(f"This PyTorch build has no {backend} backend for data-parallel runs.")
    if not dist.is_initialized():
        dist.init_process_group(backend, timeout=TIMEOUT)
    _end_on_sigterm()
    return dataclasses.replace(place, backend=backend), device


def leave() -> None:
    """Leave the process group (at the end of the run)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def check_cpu_processes(count: int) -> None:
    """Refuse more CPU training processes than this machine has cores."""
    cores = os.cpu_count() or 1
    if count > cores:
        raise StudioError(
            f"{count} training processes on the CPU, but this machine has {cores} cores: "
            f"start at most {cores}."
        )


def split_batch(batch_size: int, place: World) -> int:
    """Each process's share of the batch: ``batch_size`` is the total over all processes."""
    if batch_size % place.size:
        lower = max(place.size, batch_size - batch_size % place.size)
        raise StudioError(
            f"A batch of {batch_size} images does not split evenly over {place.size} "
            f"processes: use a multiple of {place.size} (e.g. {lower} or {lower + place.size})."
        )
    return batch_size // place.size


def wrap(model: nn.Module, device: torch.device, sync_bn: bool) -> nn.Module:
    """``model`` inside ``DistributedDataParallel`` (its batch norms synchronised across
    processes when ``sync_bn``); the wrapper shares ``model``'s parameters, so checkpoints
    keep saving the plain model."""
    from torch.nn.parallel import DistributedDataParallel

    if sync_bn and device.type != "cuda":
        raise StudioError(
            "--sync-bn needs CUDA GPUs: PyTorch synchronises batch norms only between GPUs."
        )
    if sync_bn:
        # converts in place where it can; the returned module holds the converted layers
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)


def _end_on_sigterm() -> None:
    """torchrun's agent ends the remaining processes with SIGTERM when one fails: end the
    run as interrupted (once) instead of dying mid-write."""

    def handler(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the run is ending: once is enough
        raise PeerLost("the launcher ended this process (another process failed)")

    main_thread = threading.current_thread() is threading.main_thread()
    if main_thread and signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, handler)
