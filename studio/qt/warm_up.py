"""Work the window sets off once it is visible, run on workers: naming the device (this
imports torch) and importing what a run and its evaluation need. Importing them after Train
or a drop instead would hold the GIL the window needs to repaint."""

from __future__ import annotations


def device_name() -> str:
    """Where training runs, in words ("CPU", "NVIDIA H200"…)."""
    from studio.engine.device import device_label, pick_device

    return device_label(pick_device())


def import_for_runs() -> None:
    """Import the trainer, the evaluation and torchvision's models."""
    import torchvision.models  # noqa: F401

    import studio.engine.results.evaluation
    import studio.engine.training.trainer  # noqa: F401
