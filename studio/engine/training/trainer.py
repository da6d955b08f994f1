"""The one training loop, used by the GUI worker thread and by ``studio train`` alike.

:func:`fit` is a plain function: it takes the config, an event sink and a stop token,
streams typed events, honours stop and pause between batches, and never touches Qt.
Checkpoints, early stopping and the overfitting coach are callbacks; the best epoch's
weights are what every run keeps, whether it finished, stopped early or was stopped.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import random
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from studio.config import ProjectConfig
from studio.config.io import run_config_json, stored_path
from studio.engine.control import StopToken
from studio.engine.data.splits import DataSplit, split_dataset
from studio.engine.device import device_label, pick_device
from studio.engine.events import EpochEnded, EventSink, Notice, RunFinished, RunStarted, RunStatus
from studio.engine.machine import Machine
from studio.engine.models.factory import create_model
from studio.engine.models.finetune import apply_strategy, trainable_summary
from studio.engine.models.inference import autocast
from studio.engine.runs import checkpoints, files
from studio.engine.training import distributed, feature_cache, resolve
from studio.engine.training.callbacks import Callback, CoachCallback, EarlyStopping, LastCheckpoint
from studio.engine.training.loader_workers import loader_workers
from studio.engine.training.overfitting import CoachSettings
from studio.engine.training.run import Run, RunResult
from studio.engine.training.run_data import training_data
from studio.engine.training.steps import NonFiniteLoss, Stopped, train_epoch, validate
from studio.errors import StudioError
from studio.fileio import atomic_write_text


def fit(
    config: ProjectConfig,
    sink: EventSink,
    token: StopToken | None = None,
    run_dir: Path | None = None,
    resume: bool = False,
    callbacks: list[Callback] | None = None,
    sync_bn: bool = False,
) -> RunResult:
    """Train as ``config`` says. Bad input raises :class:`StudioError` and a stop during
    set-up raises :class:`Stopped`, both before any event; once ``run_started`` is sent,
    ``run_finished`` always follows (finished, stopped, failed). ``resume`` continues
    ``run_dir``'s last checkpoint. Front ends run it through a
    :class:`~studio.engine.training.session.RunSession`.

    Started by torchrun, it trains data-parallel (:mod:`.distributed`): rank 0 alone writes
    ``run_dir`` and runs ``callbacks``; ``sync_bn`` synchronises batch norms across processes."""
    token = token or StopToken()
    main = distributed.is_main()
    run = _prepare(config, sink, run_dir if main else None, token, sync_bn)
    if resume and (run_dir is None or not checkpoints.has_checkpoint(run_dir)):
        raise StudioError(f"Nothing to resume in {run_dir}: it has no checkpoint.")
    cfg = config.train
    hooks: list[Callback] = [
        LastCheckpoint(),
        CoachCallback(_coach_settings(config), classes=len(run.classes)),
    ]
    if cfg.early_stopping:
        hooks.append(EarlyStopping(cfg.early_stopping_patience, cfg.early_stopping_metric))
    hooks += (callbacks or []) if main else []
    trainable, total = trainable_summary(run.model)
    sink(
        RunStarted(
            model=config.model.name,
            device=_device_label(run),
            classes=list(run.classes),
            train_images=len(run.train_ds),
            val_images=len(run.val_ds),
            epochs=cfg.epochs,
            batches_per_epoch=len(run.train_loader),
            skipped_images=run.skipped,
            trainable_params=trainable,
            total_params=total,
            start_epoch=checkpoints.last_epoch(run_dir) + 1 if resume else 1,
            test_images=run.test_images,
        )
    )
    started = time.perf_counter()
    status, message = RunStatus.FINISHED, ""
    try:
        if feature_cache.applies(config) and run.world is None:
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
                if run.world is not None:  # the processes must keep the same steps
                    raise StudioError(
                        f"GPU {run.device.index} ran out of memory: lower the batch size "
                        "or the image size."
                    ) from None
                _halve_batch(run)
                continue  # the same epoch again, with smaller batches
            for hook in hooks:  # save first: once an epoch is announced, it is on disk
                hook.on_epoch_saved(run, ended)
            run.sink(ended)
            for hook in hooks:
                hook.on_epoch_end(run, ended)
            _agree_to_stop(run)
            epoch += 1
        message = run.stop_message
    except Stopped:
        status = RunStatus.STOPPED
    except distributed.PeerLost:
        distributed.ending()
        status, message = RunStatus.INTERRUPTED, _peer_lost(run_dir)
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
        if run.world is not None and distributed.lost_peer(exc):
            distributed.ending()
            status, message = RunStatus.INTERRUPTED, _peer_lost(run_dir)
            return _end(run, hooks, status, started, message)
        status, message = RunStatus.FAILED, _explain(exc, run_dir)
        _end(run, hooks, status, started, message)
        raise
    if run.world is not None and status != RunStatus.INTERRUPTED:
        distributed.leave()  # a clean end (after a lost peer, the process exit cleans up)
    return _end(run, hooks, status, started, message)


# ---- data-parallel runs (torchrun): see studio.engine.training.distributed ----


def _device_label(run: Run) -> str:
    label = device_label(run.device)
    return label if run.world is None else f"{label} × {run.world.size} processes"


def _agree_to_stop(run: Run) -> None:
    """A callback that ends the run (early stopping, a stop request) ends it in every
    process, or the others would wait for this one."""
    if run.world is not None and run.world.any(bool(run.stop_message), run.device):
        run.stop_message = run.stop_message or "Stopped by another process of the run."


def _peer_lost(run_dir: Path | None) -> str:
    saved = (
        checkpoints.last_epoch(run_dir)
        if run_dir is not None and checkpoints.has_checkpoint(run_dir)
        else 0
    )
    kept = f"its last checkpoint (epoch {saved}) is kept" if saved else "no epoch was saved"
    return (
        "Another process of the data-parallel run ended or stopped answering: the run is "
        f"interrupted; {kept}. Continue it with studio train --resume {run_dir}, with any "
        "number of processes."
    )


def _parallel(place: distributed.World | None, device: torch.device, batch_size: int):
    """Join the data-parallel group when torchrun started this process: its place, device
    and share of the batch (the whole run, device and batch otherwise)."""
    if place is None:
        return None, device, batch_size
    place, device = distributed.join(place, device)
    return place, device, distributed.split_batch(batch_size, place)


def _parallel_notice(run: Run, sync_bn: bool) -> Notice:
    world = run.world
    return Notice(
        message=f"Data-parallel training: {world.size} processes ({world.backend}), "
        f"{run.batch_size} images each per step (batch {run.batch_size * world.size})"
        + (", batch norms synchronised." if sync_bn else ".")
    )


def _coach_settings(config: ProjectConfig) -> CoachSettings:
    warmup = config.train.warmup_epochs if config.train.schedule == "cosine" else 0.0
    return CoachSettings(**config.coach.model_dump(), warmup_epochs=warmup)


def _require_validation(split: DataSplit, share: float) -> None:
    """Refuse a split with no validation image: its accuracy would be a meaningless 0 %."""
    if split.totals()["val"] == 0:
        raise StudioError(
            f"No validation images: {len(split.assigned)} images are too few to hold out "
            f"{share:.0%} for validation; add images or raise the validation share "
            "(data.val_fraction)"
        )


def _prepare(
    config: ProjectConfig,
    sink: EventSink,
    run_dir: Path | None,
    token: StopToken | None = None,
    sync_bn: bool = False,
) -> Run:
    """Everything before the first batch: the one split, the model, the data and loaders. A
    stop asked meanwhile raises :class:`Stopped` within a file read or a model step."""
    token = token or StopToken()
    cfg, mcfg = config.train, config.model
    resolve.check(config)  # contradicting choices fail before any work
    split = split_dataset(config.data, cfg.seed, token=token, require=True)
    if split is None:
        raise Stopped
    index = split.index
    _require_validation(split, config.data.val_fraction)
    _check(token)
    _seed_everything(cfg.seed)
    place, device, batch_size = _parallel(
        distributed.world(), pick_device(cfg.device), cfg.batch_size
    )
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
    parallel = distributed.wrap(model, device, sync_bn) if place is not None else None
    if sync_bn and place is None:
        sink(Notice(message="Synchronised batch norms need several processes: not used."))
    if parallel is not None:
        model = parallel.module  # with its batch norms synchronised when asked
    data = training_data(config, split)
    loss_weight = (
        torch.tensor(data.class_weights, device=device) if cfg.class_weighting == "loss" else None
    )
    run = Run(
        config=config,
        run_dir=run_dir,
        sink=sink,
        device=device,
        model=model,
        classes=data.classes,
        train_ds=data.train,
        val_ds=data.val,
        groups=groups,
        workers=_workers(cfg.num_workers, device, sink, place.local_size if place else 1),
        batch_size=batch_size,
        amp=autocast(device, cfg.mixed_precision),
        loss_fn=nn.CrossEntropyLoss(weight=loss_weight, label_smoothing=cfg.label_smoothing),
        sampler_weights=data.sampler_weights,
        skipped=split.skipped,
        test_images=split.totals()["test"],
        mean=data.mean,
        std=data.std,
        keys=data.keys,
        world=place,
        parallel=parallel,
    )
    if place is not None:
        sink(_parallel_notice(run, sync_bn))
    if run_dir is not None:
        atomic_write_text(run_dir / files.CONFIG, run_config_json(config, run_dir))
        atomic_write_text(
            run_dir / files.ENVIRONMENT,
            json.dumps(
                checkpoints.environment(
                    device_label(device), place.size if place else 1, place.backend if place else ""
                ),
                indent=2,
            ),
        )
        _save_split(run_dir, split)
    return run


def _workers(requested: int | str, device: torch.device, sink: EventSink, processes: int) -> int:
    """The resolver's worker count for this machine (its share of the cores when
    ``processes`` train on it); a request it lowers is a notice."""
    machine = Machine.here(device.type)
    machine = dataclasses.replace(machine, cores=max(1, machine.cores // processes))
    count, why = loader_workers(requested, device.type, machine)
    if requested != "auto" and count < int(requested):
        sink(Notice(message=f"Loader workers {count}: {why}."))
    return count


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
    if improved and (run.world is None or run.world.main):
        run.best_state = {
            k: v.detach().to("cpu", copy=True) for k, v in run.model.state_dict().items()
        }
        if run.run_dir is not None:
            _save_best(run)
    return ended


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
                f"The disk is full: the best model could not be saved. {_kept(run.run_dir)}"
            ) from exc
        raise


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _save_split(run_dir: Path, split: DataSplit) -> None:
    """``split.json``: counts per class per split, and which file went where (paths stored as
    in ``config.json``: relative to the run folder within its project's tree)."""
    listed: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    for path, part in zip(split.index.paths, split.assigned, strict=True):
        listed[part].append(stored_path(path, run_dir))
    data = {"counts": split.counts(), "files": listed}
    atomic_write_text(run_dir / files.SPLIT, json.dumps(data, indent=1, ensure_ascii=False))


def _kept(run_dir: Path | None) -> str:
    """What a full disk left to continue from: the last checkpoint, if one was saved."""
    if run_dir is not None and checkpoints.has_checkpoint(run_dir):
        return "The previous checkpoint is intact: free some space and resume."
    return "No checkpoint was saved yet: free some space and train again."


def _explain(exc: Exception, run_dir: Path | None = None) -> str:
    text = str(exc)
    if isinstance(exc, StudioError):
        return text
    if "DataLoader worker" in text:
        return (
            "A data-loader worker process died (often out of memory): set the loader "
            "workers to 0 or lower the batch size."
        )
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return f"The disk is full. {_kept(run_dir)}"
    return f"{type(exc).__name__}: {text}"
