"""The one training loop, used by the GUI worker thread and by ``studio train`` alike.

:func:`fit` is a plain function: it takes the config, an event sink and a stop token,
streams typed events, honours stop and pause between batches, and never touches Qt.
"""

from __future__ import annotations

import dataclasses
import io
import json
import random
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
from torch import nn

from studio.config import ProjectConfig
from studio.engine import augment
from studio.engine.catalog import get_spec
from studio.engine.control import StopToken
from studio.engine.data import Edits, trainable_index
from studio.engine.dataset import ImageDataset, auto_workers, make_loader
from studio.engine.device import device_label, pick_device
from studio.engine.errors import StudioError
from studio.engine.events import (
    BatchEnded,
    EpochEnded,
    EventSink,
    OverfittingDetected,
    RunFinished,
    RunStarted,
    TrainingWarning,
)
from studio.engine.finetune import apply_strategy, set_train_mode, trainable_summary
from studio.engine.models import create_model
from studio.engine.overfitting import Coach, CoachSettings, Diagnosis, History
from studio.engine.runlog import atomic_write_bytes, atomic_write_text
from studio.engine.splits import assign_splits, content_keys, split_counts
from studio.engine.weights import normalisation


@dataclasses.dataclass
class RunResult:
    status: str
    best_epoch: int | None
    best_val_acc: float | None
    history: list[EpochEnded]
    classes: list[str]
    model: nn.Module | None = None  # holds the best epoch's weights


class _Stopped(Exception):
    """Raised inside the loop when the stop token fires."""


def fit(
    config: ProjectConfig,
    sink: EventSink,
    token: StopToken | None = None,
    run_dir: Path | None = None,
) -> RunResult:
    """Train as ``config`` says. Bad input raises :class:`StudioError` before any event;
    once ``run_started`` is sent, ``run_finished`` always follows (finished, stopped, failed)."""
    token = token or StopToken()
    cfg = config.train
    index, skipped = trainable_index(config.data.sources, Edits.of(config.data))
    paths, labels = index.paths, index.labels
    assigned = assign_splits(
        content_keys(paths) or [],
        labels,
        index.splits,
        config.data.val_fraction,
        config.data.test_fraction,
        cfg.seed,
    )
    train_idx = [i for i, split in enumerate(assigned) if split == "train"]
    val_idx = [i for i, split in enumerate(assigned) if split == "val"]
    test_count = assigned.count("test")  # held out: never trained on nor used to pick epochs

    _seed_everything(cfg.seed)
    device = pick_device(cfg.device)
    mcfg = config.model
    if mcfg.strategy == "scratch" and mcfg.weights != "none":
        raise StudioError(
            "The 'scratch' strategy starts from random weights: use weights "
            "'none', or pick another strategy to fine-tune pre-trained weights."
        )
    model = create_model(
        mcfg.name, len(index.classes), mcfg.weights, mcfg.dropout, image_size=cfg.image_size
    )
    groups = apply_strategy(
        model,
        mcfg.strategy,
        mcfg.unfreeze,
        cfg.learning_rate,
        mcfg.backbone_lr_factor,
        pretrained=mcfg.weights != "none",
    )
    trainable, total = trainable_summary(model)
    model = model.to(device)
    mean, std = normalisation(get_spec(mcfg.name))
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
        torch.backends.cudnn.benchmark = True
    workers = auto_workers(device) if cfg.num_workers == "auto" else int(cfg.num_workers)
    train_ds = ImageDataset(
        [paths[i] for i in train_idx],
        [labels[i] for i in train_idx],
        augment.train_transform(config.augment, cfg.image_size, mean, std, seed=cfg.seed),
    )
    val_ds = ImageDataset(
        [paths[i] for i in val_idx],
        [labels[i] for i in val_idx],
        augment.eval_transform(cfg.image_size, mean, std),
    )
    train_loader = make_loader(train_ds, cfg.batch_size, True, workers, device, cfg.seed)
    val_loader = make_loader(val_ds, cfg.batch_size, False, workers, device, cfg.seed)
    optimizer = torch.optim.AdamW(groups, lr=cfg.learning_rate, weight_decay=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    amp = _autocast(device)
    scaler = torch.amp.GradScaler("cuda", enabled=device.type == "cuda" and amp[1] == torch.float16)

    if run_dir is not None:
        atomic_write_text(run_dir / "config.json", config.model_dump_json(indent=2))
        _save_split(run_dir, index.classes, paths, labels, assigned)
    sink(
        RunStarted(
            model=config.model.name,
            device=device_label(device),
            classes=list(index.classes),
            train_images=len(train_ds),
            val_images=len(val_ds),
            epochs=cfg.epochs,
            batches_per_epoch=len(train_loader),
            skipped_images=skipped,
            trainable_params=trainable,
            total_params=total,
            test_images=test_count,
        )
    )
    started = time.perf_counter()
    history: list[EpochEnded] = []
    best: EpochEnded | None = None
    best_state: dict[str, torch.Tensor] | None = None
    coach = Coach(CoachSettings(**config.coach.model_dump()), classes=len(index.classes))
    status, message = "finished", ""
    try:
        for epoch in range(1, cfg.epochs + 1):
            t0 = time.perf_counter()
            train_loss, train_acc, seen = _train_epoch(
                model, train_loader, optimizer, loss_fn, scaler, amp, device, token, sink, epoch
            )
            train_seconds = time.perf_counter() - t0
            val_loss, val_acc = _evaluate(model, val_loader, loss_fn, amp, device, token)
            improved = best is None or (val_acc, -val_loss) > (best.val_acc, -best.val_loss)
            ended = EpochEnded(
                epoch=epoch,
                epochs=cfg.epochs,
                train_loss=train_loss,
                train_acc=train_acc,
                val_loss=val_loss,
                val_acc=val_acc,
                lr=float(optimizer.param_groups[0]["lr"]),
                seconds=time.perf_counter() - t0,
                images_per_second=seen / max(train_seconds, 1e-9),
                best_epoch=epoch if improved or best is None else best.epoch,
            )
            history.append(ended)
            if improved:
                best = ended
                best_state = {
                    k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()
                }
                if run_dir is not None:
                    _save_model(run_dir, best_state, index.classes, config)
            sink(ended)
            for diagnosis in coach.update(_history(history)):
                sink(_coach_event(diagnosis))
            if cfg.early_stopping and epoch - ended.best_epoch >= cfg.early_stopping_patience:
                message = (
                    f"Stopped early: validation accuracy has not improved for "
                    f"{cfg.early_stopping_patience} epochs."
                )
                break
    except _Stopped:
        status = "stopped"
    except Exception as exc:
        status, message = "failed", _explain(exc)
        sink(_finished(status, best, started, message))
        raise
    if best_state is not None:
        model.load_state_dict(best_state)  # the run keeps its best epoch, whatever happened
    sink(_finished(status, best, started, message))
    return RunResult(
        status=status,
        best_epoch=best.epoch if best else None,
        best_val_acc=best.val_acc if best else None,
        history=history,
        classes=list(index.classes),
        model=model,
    )


def _history(epochs: list[EpochEnded]) -> History:
    return History(
        train_loss=[e.train_loss for e in epochs],
        val_loss=[e.val_loss for e in epochs],
        train_acc=[e.train_acc for e in epochs],
        val_acc=[e.val_acc for e in epochs],
    )


def _coach_event(d: Diagnosis) -> OverfittingDetected | TrainingWarning:
    kind = OverfittingDetected if d.is_overfitting else TrainingWarning
    return kind(epoch=d.epoch, signal=d.signal, detail=d.detail, began=d.began)


def _train_epoch(model, loader, optimizer, loss_fn, scaler, amp, device, token, sink, epoch):
    set_train_mode(model)
    total_loss = total_correct = total_seen = 0.0
    batches = len(loader)
    for batch, (images, targets) in enumerate(loader, start=1):
        if token.checkpoint():
            raise _Stopped
        images, targets = _to_device(images, targets, device)
        with amp[0]:
            logits = model(images)
            loss = loss_fn(logits, targets)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        n = targets.numel()
        batch_loss = float(loss.detach())
        batch_correct = float((logits.argmax(1) == targets).sum())
        total_loss += batch_loss * n
        total_correct += batch_correct
        total_seen += n
        sink(
            BatchEnded(
                epoch=epoch, batch=batch, batches=batches, loss=batch_loss, acc=batch_correct / n
            )
        )
    seen = max(total_seen, 1.0)
    return total_loss / seen, total_correct / seen, int(total_seen)


@torch.no_grad()
def _evaluate(model, loader, loss_fn, amp, device, token) -> tuple[float, float]:
    model.eval()
    total_loss = total_correct = total_seen = 0.0
    for images, targets in loader:
        if token.checkpoint():
            raise _Stopped
        images, targets = _to_device(images, targets, device)
        with amp[0]:
            logits = model(images)
        total_loss += float(loss_fn(logits.float(), targets)) * targets.numel()
        total_correct += float((logits.argmax(1) == targets).sum())
        total_seen += targets.numel()
    seen = max(total_seen, 1.0)
    return total_loss / seen, total_correct / seen


def _to_device(images: torch.Tensor, targets: torch.Tensor, device: torch.device):
    if device.type == "cuda":
        images = images.to(device, non_blocking=True, memory_format=torch.channels_last)
        return images, targets.to(device, non_blocking=True)
    return images.to(device), targets.to(device)


def _autocast(device: torch.device):
    """Mixed precision on CUDA: bf16 where the GPU has it, else fp16 with a grad scaler."""
    if device.type != "cuda":
        return nullcontext(), torch.float32
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.autocast("cuda", dtype=dtype), dtype


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _save_model(
    run_dir: Path, state: dict[str, torch.Tensor], classes: list[str], config: ProjectConfig
) -> None:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(run_dir / "best.pt", buffer.getvalue())
    meta = {"classes": classes, "model": config.model.name, "image_size": config.train.image_size}
    atomic_write_text(run_dir / "model.json", json.dumps(meta, indent=2))


def _save_split(
    run_dir: Path, classes: list[str], paths: list[Path], labels: list[int], assigned: list[str]
) -> None:
    """``split.json``: counts per class per split, and which file went where."""
    files: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    for path, split in zip(paths, assigned, strict=True):
        files[split].append(str(path))
    data = {"counts": split_counts(classes, labels, assigned), "files": files}
    atomic_write_text(run_dir / "split.json", json.dumps(data, indent=1, ensure_ascii=False))


def _finished(status: str, best: EpochEnded | None, started: float, message: str) -> RunFinished:
    return RunFinished(
        status=status,
        best_epoch=best.epoch if best else None,
        best_val_acc=best.val_acc if best else None,
        seconds=time.perf_counter() - started,
        message=message,
    )


def _explain(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, torch.OutOfMemoryError) or "out of memory" in text.lower():
        return "The GPU ran out of memory: lower the batch size or the image size."
    return f"{type(exc).__name__}: {text}"
