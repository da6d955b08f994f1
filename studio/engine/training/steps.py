"""The inner loops: one training step, one epoch and the validation pass, as fast as a
hand-written loop.

Per batch they do exactly one host sync (reading the loss and the number correct together),
which the NaN check and the per-batch event reuse. In a data-parallel run that read is one
``all_reduce`` of the batch's loss, correct count, size and stop request over every process,
so the metrics are the whole batch's and every process stops at the same batch.
"""

from __future__ import annotations

import torch
from torch import nn

from studio.engine.control import Stopped, StopToken
from studio.engine.events import BatchEnded, EventSink
from studio.engine.models.finetune import set_train_mode
from studio.engine.models.inference import infer, to_device


class NonFiniteLoss(Exception):
    """The loss became NaN or infinite."""

    def __init__(self, epoch: int, batch: int) -> None:
        super().__init__(f"epoch {epoch}, batch {batch}")
        self.epoch, self.batch = epoch, batch


def train_step(run, images: torch.Tensor, targets: torch.Tensor):
    """One optimizer step on one batch, as every training step takes it: onto the device,
    forward and loss under autocast, backward and step through the grad scaler.

    Returns the loss, the logits and the targets on the device (nothing is synced)."""
    # the head alone when training on cached features; DistributedDataParallel in parallel runs
    forward = run.forward or run.parallel or run.model
    images, targets = to_device(images, targets, run.device)
    with run.amp[0]:
        logits = forward(images)
        loss = run.loss_fn(logits, targets)
    run.optimizer.zero_grad(set_to_none=True)
    run.scaler.scale(loss).backward()
    run.scaler.step(run.optimizer)
    run.scaler.update()
    return loss, logits, targets


def train_epoch(run, epoch: int, token: StopToken, sink: EventSink) -> tuple[float, float, int]:
    """One pass over the training loader; returns mean loss, accuracy and images seen."""
    set_train_mode(run.model)
    total_loss = total_correct = 0.0
    total_seen = 0
    loader = run.train_loader
    batches = len(loader)
    for batch, (images, targets) in enumerate(loader, start=1):
        if run.world is None and token.should_stop():
            raise Stopped
        loss, logits, targets = train_step(run, images, targets)
        run.schedule.after_batch()
        stats = torch.stack([loss.detach().float(), (logits.argmax(1) == targets).sum().float()])
        if run.world is None:
            n = targets.numel()
            batch_loss, batch_correct = stats.tolist()  # the one sync of this step
        else:  # the whole batch, over every process, and whether any was asked to stop
            size = targets.numel()
            mine = torch.cat([stats * stats.new_tensor([size, 1]), stats.new_tensor([size, 0])])
            mine[3] = float(token.should_stop())
            loss_sum, batch_correct, n, stop = run.world.sum(mine, run.device)
            batch_loss, n = loss_sum / max(n, 1), int(n)
            if stop:
                raise Stopped
        if batch_loss != batch_loss or batch_loss in (float("inf"), float("-inf")):
            raise NonFiniteLoss(epoch, batch)
        total_loss += batch_loss * n
        total_correct += batch_correct
        total_seen += n
        sink(
            BatchEnded(
                epoch=epoch, batch=batch, batches=batches, loss=batch_loss, acc=batch_correct / n
            )
        )
    if run.world is not None:
        run.world.share_buffers(run.model)
    seen = max(total_seen, 1)
    return total_loss / seen, total_correct / seen, total_seen


def validate(run, token: StopToken) -> tuple[float, float]:
    """Mean loss (without label smoothing) and accuracy on the validation loader, through
    the one inference loop. A data-parallel run validates each process's share and sums
    over them: the whole validation set's figures (a stop waits for the end of the pass)."""
    forward = run.forward or run.model
    precision = run.config.train.mixed_precision
    total_loss = total_correct = 0.0
    total_seen = 0
    own = token if run.world is None else None
    for logits, targets in infer(forward, run.val_loader, run.device, precision, own):
        targets = targets.to(run.device, non_blocking=True)
        loss = nn.functional.cross_entropy(logits, targets, reduction="sum")
        stats = torch.stack([loss, (logits.argmax(1) == targets).sum().float()]).tolist()
        total_loss += stats[0]
        total_correct += stats[1]
        total_seen += targets.numel()
    stop = token.should_stop()
    if run.world is not None:
        total_loss, total_correct, total_seen, stop = run.world.sum(
            [total_loss, total_correct, total_seen, stop], run.device
        )
    if stop:
        raise Stopped
    seen = max(total_seen, 1)
    return total_loss / seen, total_correct / seen
