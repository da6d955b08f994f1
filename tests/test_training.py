"""Issue 6: optimizers, schedules, checkpoints and resume, failures that explain themselves."""

from __future__ import annotations

import errno
import json
import threading
from pathlib import Path

import pytest
import torch
from test_cli import studio

from studio.config import ProjectConfig
from studio.engine.control import StopToken
from studio.engine.events import BatchEnded, EpochEnded, Notice, RunFinished
from studio.engine.runs import checkpoints
from studio.engine.training import trainer
from studio.engine.training.trainer import fit


def config(data: Path, epochs: int = 2, **train) -> ProjectConfig:
    cfg = ProjectConfig()
    cfg.data.sources = [data]
    cfg.train.epochs, cfg.train.image_size, cfg.train.batch_size = epochs, 32, 8
    for key, value in train.items():
        setattr(cfg.train, key, value)
    return cfg


@pytest.mark.parametrize(
    "knobs",
    [
        {"optimizer": "adamw", "schedule": "cosine"},
        {"optimizer": "adam", "schedule": "onecycle"},
        {"optimizer": "sgd", "schedule": "step", "step_every": 1, "learning_rate": 0.01},
        {"optimizer": "adamw", "schedule": "plateau", "label_smoothing": 0.1},
        {"optimizer": "adamw", "schedule": "constant", "class_weighting": "loss"},
        {"optimizer": "adamw", "schedule": "constant", "class_weighting": "sampler"},
    ],
)
def test_every_optimizer_schedule_and_knob_trains(dataset: Path, knobs: dict):
    events: list = []
    result = fit(config(dataset, **knobs), events.append)
    assert result.status == "finished"
    lrs = [e.lr for e in events if isinstance(e, EpochEnded)]
    if knobs["schedule"] == "step":
        assert lrs == pytest.approx([0.001, 0.0001])  # divided by 10 after each epoch
    if knobs["schedule"] == "cosine":
        assert lrs[-1] < 1e-5  # annealed to zero by the last step


def _stop_after(epoch: int, token: StopToken, events: list):
    def sink(event):
        events.append(event)
        if isinstance(event, EpochEnded) and event.epoch == epoch:
            token.stop()

    return sink


def test_resume_gives_the_same_run_as_no_interruption(dataset: Path, tmp_path: Path):
    whole: list = []
    fit(config(dataset, epochs=3), whole.append, run_dir=tmp_path / "whole")
    token, first = StopToken(), []
    stopped = fit(
        config(dataset, epochs=3), _stop_after(2, token, first), token, run_dir=tmp_path / "cut"
    )
    assert stopped.status == "stopped"
    assert json.loads((tmp_path / "cut" / "last.json").read_text())["epoch"] == 2
    rest: list = []
    resumed = fit(config(dataset, epochs=3), rest.append, run_dir=tmp_path / "cut", resume=True)
    assert resumed.status == "finished"
    assert rest[0].start_epoch == 3
    assert [e.epoch for e in rest if isinstance(e, EpochEnded)] == [3]
    expected = [e for e in whole if isinstance(e, EpochEnded)][-1]
    got = [e for e in rest if isinstance(e, EpochEnded)][-1]
    assert (got.train_loss, got.val_loss, got.val_acc) == pytest.approx(
        (expected.train_loss, expected.val_loss, expected.val_acc), rel=1e-6
    )


def test_best_weights_are_restored_and_saved(dataset: Path, tmp_path: Path):
    result = fit(config(dataset, epochs=3), lambda e: None, run_dir=tmp_path / "r")
    saved = checkpoints.load_weights(tmp_path / "r", "best")
    for key, value in result.model.state_dict().items():
        assert torch.equal(saved[key], value.cpu()), key
    info = json.loads((tmp_path / "r" / "model.json").read_text())
    assert info["best_epoch"] == result.best_epoch and info["classes"] == result.classes


def _poison(monkeypatch, when):
    """Make the model's forward pass misbehave on the calls ``when`` picks."""
    original = trainer.create_model
    calls = {"n": 0}

    def create(*args, **kwargs):
        model = original(*args, **kwargs)

        def hook(module, inputs, output):
            if module.training:
                calls["n"] += 1
                return when(calls["n"], inputs[0], output)
            return output

        model.register_forward_hook(hook)
        return model

    monkeypatch.setattr(trainer, "create_model", create)


def test_nan_loss_stops_with_advice_and_keeps_the_last_good_checkpoint(
    dataset: Path, tmp_path: Path, monkeypatch
):
    per_epoch = 4  # 27 training images in batches of 8
    _poison(monkeypatch, lambda n, x, out: out * float("nan") if n == per_epoch + 2 else out)
    events: list = []
    result = fit(config(dataset, epochs=3), events.append, run_dir=tmp_path / "r")
    assert result.status == "failed"
    finished = events[-1]
    assert isinstance(finished, RunFinished) and "NaN" in finished.message
    assert "epoch 2, batch 2" in finished.message and "lower" in finished.message
    assert json.loads((tmp_path / "r" / "last.json").read_text())["epoch"] == 1
    assert result.best_epoch == 1


def test_out_of_memory_halves_the_batch_and_says_so(dataset: Path, monkeypatch):
    def oom(n, x, out):
        if x.shape[0] > 2:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return out

    _poison(monkeypatch, oom)
    events: list = []
    result = fit(config(dataset, epochs=1, batch_size=8), events.append)
    assert result.status == "finished"
    notices = [e.message for e in events if isinstance(e, Notice)]
    assert notices == [
        "Out of memory with batches of 8: retrying this epoch with batches of 4.",
        "Out of memory with batches of 4: retrying this epoch with batches of 2.",
    ]
    assert events[-1].status == "finished"


def test_pause_holds_training_until_resumed(dataset: Path):
    token, events = StopToken(), []
    seen_while_paused: list[int] = []
    paused = threading.Event()

    def sink(event):
        events.append(event)
        if isinstance(event, BatchEnded) and event.batch == 1 and event.epoch == 1:
            token.pause()
            paused.set()

    def resumer():
        paused.wait(30)
        seen_while_paused.append(sum(isinstance(e, BatchEnded) for e in events))
        token.resume()

    thread = threading.Thread(target=resumer)
    thread.start()
    result = fit(config(dataset, epochs=1), sink, token)
    thread.join(30)
    assert seen_while_paused == [1] and result.status == "finished"
    assert sum(isinstance(e, BatchEnded) for e in events) == 4


def test_early_stopping_keeps_the_best_epoch(noise_dataset: Path):
    cfg = config(
        noise_dataset,
        epochs=30,
        early_stopping=True,
        early_stopping_patience=2,
        learning_rate=0.003,
        schedule="constant",
    )
    cfg.augment.preset = "none"
    cfg.train.image_size = 16
    events: list = []
    result = fit(cfg, events.append)
    epochs = [e for e in events if isinstance(e, EpochEnded)]
    assert len(epochs) < 30 and "Stopped early" in events[-1].message
    assert epochs[-1].epoch - result.best_epoch == 2


def test_full_disk_fails_clearly_and_keeps_the_previous_checkpoint(
    dataset: Path, tmp_path: Path, monkeypatch
):
    original = checkpoints.save_weights

    def save(path, state, meta):
        if path.name == "best.safetensors" and (tmp_path / "r" / "last.json").exists():
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(path, state, meta)

    monkeypatch.setattr(checkpoints, "save_weights", save)
    events: list = []
    with pytest.raises(Exception):  # noqa: B017 - the run reports it, then re-raises
        fit(
            config(dataset, epochs=3, schedule="constant", learning_rate=0.003),
            events.append,
            run_dir=tmp_path / "r",
        )
    assert events[-1].status == "failed" and "disk is full" in events[-1].message
    weights, state = checkpoints.load_last(tmp_path / "r")
    assert state["epoch"] >= 1 and weights


def test_cli_resume_and_settings(dataset: Path, tmp_path: Path):
    token, events = StopToken(), []
    fit(config(dataset, epochs=2), _stop_after(1, token, events), token, run_dir=tmp_path / "r")
    done = studio("train", "--resume", str(tmp_path / "r"))
    assert done.returncode == 0, done.stderr
    assert "epoch   2/2" in done.stdout
    done = studio(
        "train",
        "--data",
        str(dataset),
        "--set",
        "train.optimiser=sgd",
        "--out",
        str(tmp_path / "x"),
    )
    assert done.returncode == 2 and "SECTION.FIELD=VALUE" in done.stderr
