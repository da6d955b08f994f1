"""The inner loops: one training epoch and one evaluation pass, as fast as a hand-written loop.

Per batch they do exactly one host sync (reading the loss and the number correct together),
which the NaN check and the per-batch event reuse.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import torch
from torch import nn

from studio.engine.control import Stopped, StopToken
from studio.engine.events import BatchEnded, EventSink
from studio.engine.models.finetune import set_train_mode


class NonFiniteLoss(Exception):
    """The loss became NaN or infinite."""

    def __init__(self, epoch: int, batch: int) -> None:
        super().__init__(f"epoch {epoch}, batch {batch}")
        self.epoch, self.batch = epoch, batch


def autocast(device: torch.device, mode: str) -> tuple[AbstractContextManager, torch.dtype]:
    """Mixed precision on CUDA: bf16 where the GPU has it, else fp16 with a grad scaler."""
    if device.type != "cuda" or mode == "off":
        return nullcontext(), torch.float32
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.autocast("cuda", dtype=dtype), dtype


def to_device(images: torch.Tensor, targets: torch.Tensor, device: torch.device):
    if device.type == "cuda":
        layout = torch.channels_last if images.dim() == 4 else torch.preserve_format
        images = images.to(device, non_blocking=True, memory_format=layout)
        return images, targets.to(device, non_blocking=True)
    return images, targets


def train_epoch(run, epoch: int, token: StopToken, sink: EventSink) -> tuple[float, float, int]:
    """One pass over the training loader; returns mean loss, accuracy and images seen."""
    model, optimizer, scaler, loss_fn = run.model, run.optimizer, run.scaler, run.loss_fn
    forward = run.forward or model  # the head alone when training on cached features
    context, device = run.amp[0], run.device
    set_train_mode(model)
    total_loss = total_correct = 0.0
    total_seen = 0
    loader = run.train_loader
    batches = len(loader)
    for batch, (images, targets) in enumerate(loader, start=1):
        if token.should_stop():
            raise Stopped
        images, targets = to_device(images, targets, device)
        with context:
            logits = forward(images)
            loss = loss_fn(logits, targets)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        run.schedule.after_batch()
        n = targets.numel()
        stats = torch.stack([loss.detach().float(), (logits.argmax(1) == targets).sum().float()])
        batch_loss, batch_correct = stats.tolist()  # the one sync of this step
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
    seen = max(total_seen, 1)
    return total_loss / seen, total_correct / seen, total_seen


@torch.no_grad()
def validate(run, token: StopToken) -> tuple[float, float]:
    """Mean loss (without label smoothing) and accuracy on the validation loader."""
    model, device = run.model, run.device
    forward = run.forward or model
    model.eval()
    total_loss = total_correct = 0.0
    total_seen = 0
    for images, targets in run.val_loader:
        if token.should_stop():
            raise Stopped
        images, targets = to_device(images, targets, device)
        with run.amp[0]:
            logits = forward(images)
        loss = nn.functional.cross_entropy(logits.float(), targets, reduction="sum")
        stats = torch.stack([loss, (logits.argmax(1) == targets).sum().float()]).tolist()
        total_loss += stats[0]
        total_correct += stats[1]
        total_seen += targets.numel()
    seen = max(total_seen, 1)
    return total_loss / seen, total_correct / seen
