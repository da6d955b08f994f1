"""The one training loop, used by the GUI worker thread and by ``studio train`` alike.

:func:`fit` is a plain function: it takes the config, an event sink and a stop token,
streams typed events, honours stop and pause between batches, and never touches Qt.
Checkpoints, early stopping and the overfitting coach are callbacks; the best epoch's
weights are what every run keeps, whether it finished, stopped early or was stopped.
"""

from __future__ import annotations

import errno
import json
import random
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from studio.config import ProjectConfig
from studio.engine.augment import pipeline as augment
from studio.engine.control import StopToken
from studio.engine.data.index import Edits, trainable_index
from studio.engine.data.loaders import ImageDataset, auto_workers
from studio.engine.data.splits import assign_splits, content_keys, split_counts
from studio.engine.device import device_label, pick_device
from studio.engine.events import EpochEnded, EventSink, Notice, RunFinished, RunStarted, RunStatus
from studio.engine.models.catalog import get_spec
from studio.engine.models.factory import create_model
from studio.engine.models.finetune import apply_strategy, trainable_summary
from studio.engine.models.weights import normalisation
from studio.engine.runs import checkpoints, files
from studio.engine.training import feature_cache
from studio.engine.training.callbacks import Callback, CoachCallback, EarlyStopping, LastCheckpoint
from studio.engine.training.overfitting import CoachSettings
from studio.engine.training.run import Run, RunResult
from studio.engine.training.steps import NonFiniteLoss, Stopped, autocast, train_epoch, validate
from studio.errors import StudioError
from studio.fileio import atomic_write_text


def fit(
    config: ProjectConfig,
    sink: EventSink,
    token: StopToken | None = None,
    run_dir: Path | None = None,
    resume: bool = False,
    callbacks: list[Callback] | None = None,
) -> RunResult:
    """Train as ``config`` says. Bad input raises :class:`StudioError` and a stop during
    set-up raises :class:`Stopped`, both before any event; once ``run_started`` is sent,
    ``run_finished`` always follows (finished, stopped, failed). ``resume`` continues
    ``run_dir``'s last checkpoint. Front ends run it through a
    :class:`~studio.engine.training.session.RunSession`."""
    token = token or StopToken()
    run = _prepare(config, sink, run_dir, token)
    if resume and (run_dir is None or not checkpoints.has_checkpoint(run_dir)):
        raise StudioError(f"Nothing to resume in {run_dir}: it has no checkpoint.")
    cfg = config.train
    hooks: list[Callback] = [
        LastCheckpoint(),
        CoachCallback(CoachSettings(**config.coach.model_dump()), classes=len(run.classes)),
    ]
    if cfg.early_stopping:
        hooks.append(EarlyStopping(cfg.early_stopping_patience, cfg.early_stopping_metric))
    hooks += callbacks or []
    trainable, total = trainable_summary(run.model)
    sink(
        RunStarted(
            model=config.model.name,
            device=device_label(run.device),
            classes=list(run.classes),
            train_images=len(run.train_ds),
            val_images=len(run.val_ds),
            epochs=cfg.epochs,
            batches_per_epoch=len(run.train_loader),
            skipped_images=run.skipped,
            trainable_params=trainable,
            total_params=total,
            start_epoch=_saved_epoch(run_dir) + 1 if resume else 1,
            test_images=run.test_images,
        )
    )
    started = time.perf_counter()
    status, message = RunStatus.FINISHED, ""
    try:
        if feature_cache.applies(config):
            run.use_cached_features(token)
        if resume:
            run.restore(*checkpoints.load_last(run_dir))
        for hook in hooks:
            hook.on_run_start(run)
        epoch = run.start_epoch
        while epoch <= cfg.epochs and not run.stop_message:
            try:
                ended = _epoch(run, epoch, token)
            except torch.OutOfMemoryError:
                _halve_batch(run)
                continue  # the same epoch again, with smaller batches
            for hook in hooks:  # save first: once an epoch is announced, it is on disk
                hook.on_epoch_saved(run, ended)
            run.sink(ended)
            for hook in hooks:
                hook.on_epoch_end(run, ended)
            epoch += 1
        message = run.stop_message
    except Stopped:
        status = RunStatus.STOPPED
    except NonFiniteLoss as exc:
        status, message = (
            RunStatus.FAILED,
            (
                f"The loss became NaN or infinite at epoch {exc.epoch}, batch {exc.batch}: the "
                f"learning rate is probably too high (try 3–10× lower). Training stopped; the "
                f"last good checkpoint and the best epoch are kept."
            ),
        )
    except Exception as exc:
        status, message = RunStatus.FAILED, _explain(exc)
        _end(run, hooks, status, started, message)
        raise
    return _end(run, hooks, status, started, message)


def _prepare(
    config: ProjectConfig,
    sink: EventSink,
    run_dir: Path | None,
    token: StopToken | None = None,
) -> Run:
    """Everything before the first batch; a stop asked meanwhile raises :class:`Stopped`
    within a file read or a model step."""
    token = token or StopToken()
    cfg, mcfg = config.train, config.model
    index, skipped = trainable_index(config.data.sources, Edits.of(config.data), token)
    _check(token)
    paths, labels = index.paths, index.labels
    keys = content_keys(paths, token)
    if keys is None:
        raise Stopped
    assigned = assign_splits(
        keys,
        labels,
        index.splits,
        config.data.val_fraction,
        config.data.test_fraction,
        cfg.seed,
    )
    train_idx = [i for i, split in enumerate(assigned) if split == "train"]
    val_idx = [i for i, split in enumerate(assigned) if split == "val"]
    if mcfg.strategy == "scratch" and mcfg.weights != "none":
        raise StudioError(
            "The 'scratch' strategy starts from random weights: use weights "
            "'none', or pick another strategy to fine-tune pre-trained weights."
        )
    _seed_everything(cfg.seed)
    device = pick_device(cfg.device)
    _check(token)
    model = create_model(
        mcfg.name,
        len(index.classes),
        mcfg.weights,
        mcfg.dropout,
        image_size=cfg.image_size,
        token=token,
    )
    _check(token)
    groups = apply_strategy(
        model,
        mcfg.strategy,
        mcfg.unfreeze,
        cfg.learning_rate,
        mcfg.backbone_lr_factor,
        pretrained=mcfg.weights != "none",
    )
    model = model.to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
        torch.backends.cudnn.benchmark = True
    mean, std = normalisation(get_spec(mcfg.name))
    train_labels = [labels[i] for i in train_idx]
    train_ds = ImageDataset(
        [paths[i] for i in train_idx],
        train_labels,
        augment.train_transform(config.augment, cfg.image_size, mean, std, seed=cfg.seed),
    )
    val_ds = ImageDataset(
        [paths[i] for i in val_idx],
        [labels[i] for i in val_idx],
        augment.eval_transform(cfg.image_size, mean, std),
    )
    class_weights = _inverse_frequency(train_labels, len(index.classes))
    loss_weight = (
        torch.tensor(class_weights, device=device) if cfg.class_weighting == "loss" else None
    )
    run = Run(
        config=config,
        run_dir=run_dir,
        sink=sink,
        device=device,
        model=model,
        classes=list(index.classes),
        train_ds=train_ds,
        val_ds=val_ds,
        groups=groups,
        workers=auto_workers(device) if cfg.num_workers == "auto" else int(cfg.num_workers),
        batch_size=cfg.batch_size,
        amp=autocast(device, cfg.mixed_precision),
        loss_fn=nn.CrossEntropyLoss(weight=loss_weight, label_smoothing=cfg.label_smoothing),
        sampler_weights=(
            [class_weights[y] for y in train_labels] if cfg.class_weighting == "sampler" else None
        ),
        skipped=skipped,
        test_images=assigned.count("test"),
        mean=mean,
        std=std,
        keys=([keys[i] for i in train_idx], [keys[i] for i in val_idx]),
    )
    if run_dir is not None:
        atomic_write_text(run_dir / files.CONFIG, config.model_dump_json(indent=2))
        atomic_write_text(
            run_dir / files.ENVIRONMENT,
            json.dumps(checkpoints.environment(device_label(device)), indent=2),
        )
        _save_split(run_dir, index.classes, paths, labels, assigned)
    return run


def _check(token: StopToken) -> None:
    if token.should_stop():
        raise Stopped


def _epoch(run: Run, epoch: int, token: StopToken) -> EpochEnded:
    t0 = time.perf_counter()
    train_loss, train_acc, seen = train_epoch(run, epoch, token, run.sink)
    train_seconds = time.perf_counter() - t0
    val_loss, val_acc = validate(run, token)
    run.schedule.after_epoch(val_loss)
    improved = run.is_better(val_acc, val_loss)
    ended = EpochEnded(
        epoch=epoch,
        epochs=run.config.train.epochs,
        train_loss=train_loss,
        train_acc=train_acc,
        val_loss=val_loss,
        val_acc=val_acc,
        lr=float(run.optimizer.param_groups[0]["lr"]),
        seconds=time.perf_counter() - t0,
        images_per_second=seen / max(train_seconds, 1e-9),
        best_epoch=epoch if improved or run.best is None else run.best.epoch,
    )
    run.history.append(ended)
    if improved:
        run.best = ended
        run.best_state = {
            k: v.detach().to("cpu", copy=True) for k, v in run.model.state_dict().items()
        }
        if run.run_dir is not None:
            _save_best(run)
    return ended


def _saved_epoch(run_dir: Path | None) -> int:
    try:
        return int(json.loads((run_dir / files.LAST).read_text())["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def _halve_batch(run: Run) -> None:
    if run.device.type == "cuda":
        torch.cuda.empty_cache()
    smaller = run.batch_size // 2
    if smaller < 1:
        raise StudioError(
            "The GPU ran out of memory even with a batch of 1 image: lower the "
            "image size or pick a smaller model."
        )
    run.sink(
        Notice(
            message=f"Out of memory with batches of {run.batch_size}: retrying this "
            f"epoch with batches of {smaller}."
        )
    )
    run.build_loaders(smaller)


def _end(
    run: Run, hooks: list[Callback], status: RunStatus, started: float, message: str
) -> RunResult:
    if run.best_state is not None:
        run.model.load_state_dict(run.best_state)  # the run keeps its best epoch
    for hook in hooks:
        hook.on_run_end(run, status)
    best = run.best
    run.sink(
        RunFinished(
            status=status,
            best_epoch=best.epoch if best else None,
            best_val_acc=best.val_acc if best else None,
            seconds=time.perf_counter() - started,
            message=message,
        )
    )
    return RunResult(
        status=status,
        best_epoch=best.epoch if best else None,
        best_val_acc=best.val_acc if best else None,
        history=run.history,
        classes=run.classes,
        model=run.model,
    )


def _save_best(run: Run) -> None:
    cfg = run.config
    try:
        checkpoints.save_best(
            run.run_dir,
            run.best_state,
            {
                "classes": run.classes,
                "model": cfg.model.name,
                "image_size": cfg.train.image_size,
                "mean": list(run.mean),
                "std": list(run.std),
                "best_epoch": run.best.epoch,
                "weights": cfg.model.weights,
            },
        )
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise StudioError(
                "The disk is full: the best model could not be saved. The "
                "previous checkpoint is intact; free some space and resume."
            ) from exc
        raise


def _inverse_frequency(labels: list[int], classes: int) -> list[float]:
    counts = np.bincount(np.asarray(labels, dtype=int), minlength=classes).astype(float)
    weights = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / classes, 0.0)
    return weights.tolist()


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _save_split(
    run_dir: Path, classes: list[str], paths: list[Path], labels: list[int], assigned: list[str]
) -> None:
    """``split.json``: counts per class per split, and which file went where."""
    listed: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    for path, split in zip(paths, assigned, strict=True):
        listed[split].append(str(path))
    data = {"counts": split_counts(classes, labels, assigned), "files": listed}
    atomic_write_text(run_dir / files.SPLIT, json.dumps(data, indent=1, ensure_ascii=False))


def _explain(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, StudioError):
        return text
    if "DataLoader worker" in text:
        return (
            "A data-loader worker process died (often out of memory): set the loader "
            "workers to 0 or lower the batch size."
        )
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return "The disk is full: free some space; the previous checkpoint is intact."
    return f"{type(exc).__name__}: {text}"
