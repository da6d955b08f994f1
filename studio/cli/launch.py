"""``studio train --gpus N``: start N training processes through torchrun's launcher (its
elastic agent), each running this same command; the agent ends them all when one fails."""

from __future__ import annotations

import sys

from studio.errors import StudioError


def needed(count: int) -> bool:
    """Whether this process must start the ``count`` processes (torchrun has not already)."""
    from studio.engine.training import distributed

    if count < 1:
        raise StudioError(f"--gpus: expected 1 or more processes (got {count})")
    return distributed.world() is None


def processes(count: int, device: str, argv: list[str]) -> int:
    """Run ``studio ARGV`` in ``count`` processes on this machine, as ``torchrun
    --standalone --nproc-per-node COUNT -m studio ARGV`` would; their exit code."""
    import torch

    from studio.engine.training import distributed

    if device != "cpu" and torch.cuda.is_available():
        gpus = torch.cuda.device_count()
        if count > gpus:
            raise StudioError(f"--gpus {count}: this machine has {gpus} GPU(s)")
    else:
        distributed.check_cpu_processes(count)
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    options = ["--standalone", f"--nproc-per-node={count}", "--max-restarts=0"]
    try:
        run(parse_args([*options, "-m", "studio", *argv]))
    except ChildFailedError as exc:
        codes = {rank: failure.exitcode for rank, failure in exc.failures.items()}
        if all(code in (1, 2) for code in codes.values()):  # the run's own end, already said
            return max(codes.values())
        rank, first = exc.get_first_failure()  # the cause; the agent ended the others
        code = first.exitcode
        how = f"signal {-code}" if code < 0 else f"exit code {code}"
        print(f"studio: error: training process {rank} ended ({how})", file=sys.stderr)
        return 1
    return 0
