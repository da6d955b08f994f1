"""The one training loop: events, stop, device, weights."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from studio.config import ProjectConfig
from studio.engine.control import StopToken
from studio.engine.events import (
    BatchEnded,
    CoachVerdict,
    EpochEnded,
    RunFinished,
    RunStarted,
    TrainingWarning,
    from_dict,
)
from studio.engine.models.catalog import get_spec
from studio.engine.models.factory import create_model
from studio.engine.models.weights import cache_path
from studio.engine.training.trainer import fit
from studio.errors import StudioError


def tiny_config(data: Path, epochs: int = 1, **train) -> ProjectConfig:
    cfg = ProjectConfig()
    cfg.data.sources = [data]
    cfg.train.epochs = epochs
    cfg.train.image_size = 32
    cfg.train.batch_size = 8
    for key, value in train.items():
        setattr(cfg.train, key, value)
    return cfg


def test_one_epoch_streams_events_in_order(dataset: Path, tmp_path: Path):
    events = []
    result = fit(tiny_config(dataset), events.append, run_dir=tmp_path / "run")
    kinds = [type(e) for e in events]
    batches = kinds.count(BatchEnded)
    assert kinds[0] is RunStarted and kinds[-1] is RunFinished and kinds[-2] is CoachVerdict
    assert kinds[1 : batches + 2] == [BatchEnded] * batches + [EpochEnded]
    # 7 validation images: the coach says they are too few to judge the curves
    assert kinds[batches + 2 : -2] == [TrainingWarning]
    started, epoch, finished = events[0], events[batches + 1], events[-1]
    assert started.classes == ["birds", "cats", "dogs"]
    assert started.train_images + started.val_images == 36
    assert batches == started.batches_per_epoch
    assert epoch.epoch == 1 and 0 <= epoch.val_acc <= 1 and epoch.images_per_second > 0
    assert finished.status == result.status == "finished" and finished.best_epoch == 1
    for event in events:  # every event survives a JSON round trip
        assert from_dict(event.to_dict()) == event
    for name in ("best.safetensors", "model.json", "config.json", "environment.json", "last.json"):
        assert (tmp_path / "run" / name).is_file(), name


def test_learns_an_easy_dataset(dataset: Path):
    result = fit(tiny_config(dataset, epochs=4, learning_rate=3e-3), lambda e: None)
    assert result.best_val_acc is not None and result.best_val_acc >= 0.8


def test_stop_token_is_honoured_between_batches(dataset: Path):
    token = StopToken()
    events = []

    def sink(event):
        events.append(event)
        if isinstance(event, BatchEnded):
            token.stop()

    result = fit(tiny_config(dataset, epochs=5), sink, token)
    assert result.status == "stopped"
    assert sum(isinstance(e, BatchEnded) for e in events) == 1
    assert not any(isinstance(e, EpochEnded) for e in events)
    assert isinstance(events[-1], RunFinished) and events[-1].status == "stopped"


def test_same_seed_same_run(dataset: Path):
    first = fit(tiny_config(dataset, seed=7), lambda e: None)
    second = fit(tiny_config(dataset, seed=7), lambda e: None)
    assert first.history[0].train_loss == pytest.approx(second.history[0].train_loss, rel=1e-5)


def test_unknown_model_is_bad_input(dataset: Path):
    cfg = tiny_config(dataset)
    cfg.model.name = "resnet9000"
    with pytest.raises(StudioError, match="Unknown model"):
        fit(cfg, lambda e: None)


def _cache_file(name: str) -> Path:
    return cache_path(get_spec(name))


def test_imagenet_weights_load_from_the_torch_cache():
    import torchvision

    reference = torchvision.models.resnet18(weights=None)
    path = _cache_file("resnet18")
    path.parent.mkdir(parents=True)
    torch.save(reference.state_dict(), path)
    model = create_model("resnet18", num_classes=3, weights="imagenet")
    assert torch.equal(model.conv1.weight, reference.conv1.weight)
    assert model.fc[-1].out_features == 3


def test_offline_download_fails_with_a_clear_message(monkeypatch):
    import urllib.error

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(StudioError, match="offline"):
        create_model("mobilenet_v3_small", num_classes=3, weights="imagenet")


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_weights_file_loads_and_mismatch_is_reported(tmp_path: Path, suffix: str):
    import torchvision
    from safetensors.torch import save_file

    reference = torchvision.models.resnet18(weights=None, num_classes=7)  # another head
    path = tmp_path / f"mine{suffix}"
    state = reference.state_dict()
    if suffix == ".pth":
        torch.save(state, path)
    else:
        save_file(state, str(path))
    model = create_model("resnet18", num_classes=3, weights=str(path))
    assert torch.equal(model.layer1[0].conv1.weight, reference.layer1[0].conv1.weight)
    with pytest.raises(StudioError, match="does not fit"):
        create_model("efficientnet_b0", num_classes=3, weights=str(path))


def test_runs_started_in_the_same_second_get_their_own_folders(tmp_path: Path):
    from studio.engine.runs.files import new_run_dir

    folders = [new_run_dir(tmp_path / "runs") for _ in range(3)]
    assert len(set(folders)) == 3 and all(f.is_dir() for f in folders)
