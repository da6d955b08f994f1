"""The model catalogue, fine-tuning strategies and safe weights handling."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import time
from pathlib import Path

import pytest
import torch
from conftest import settle
from test_cli import studio
from torch import nn

from studio.engine.control import StopToken
from studio.engine.models import info as info_module
from studio.engine.models import weights as weights_module
from studio.engine.models.catalog import CATALOG, get_spec
from studio.engine.models.factory import create_model, head_module
from studio.engine.models.finetune import apply_strategy, set_train_mode, stages
from studio.errors import StudioError

REQUIRED = {
    "resnet18",
    "resnet34",
    "resnet50",
    "vgg11_bn",
    "vgg16_bn",
    "efficientnet_b0",
    "efficientnet_b2",
    "efficientnet_v2_s",
    "mobilenet_v3_small",
    "mobilenet_v3_large",
    "convnext_tiny",
    "regnet_y_400mf",
    "vit_b_16",
    "small_cnn",
}


def test_catalogue_lists_every_model_with_metadata():
    assert set(CATALOG) >= REQUIRED
    rows = {row["name"]: row for row in info_module.catalogue()}
    for name, row in rows.items():
        assert row["params_m"] > 0, name
        if CATALOG[name].has_pretrained:
            assert row["top1"] > 60 and row["gflops"] > 0 and row["weights_mb"] > 1, name
            assert row["weights"] == "downloadable"
    assert rows["efficientnet_v2_s"]["image_size"] == 384


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_each_architecture_trains_one_step_with_a_new_head(name: str):
    torch.manual_seed(0)
    model = create_model(name, num_classes=3, image_size=32)
    assert isinstance(head_module(model)[-1], nn.Linear)
    assert head_module(model)[-1].out_features == 3
    groups = apply_strategy(model, "scratch", 1, 1e-3, 0.1, pretrained=False)
    optimizer = torch.optim.SGD(groups, lr=1e-3)
    set_train_mode(model)
    logits = model(torch.randn(2, 3, 32, 32))
    assert logits.shape == (2, 3)
    nn.functional.cross_entropy(logits, torch.tensor([0, 2])).backward()
    optimizer.step()


def _trainable(model: nn.Module) -> set[str]:
    return {n for n, p in model.named_parameters() if p.requires_grad}


def test_linear_probe_trains_only_the_head_and_freezes_batchnorm():
    model = create_model("resnet18", num_classes=3)
    groups = apply_strategy(model, "linear", 1, 1e-3, 0.1, pretrained=True)
    assert _trainable(model) == {"fc.1.weight", "fc.1.bias"}
    assert [g["name"] for g in groups] == ["head"]
    set_train_mode(model)
    assert not model.bn1.training and not model.layer4[1].bn2.training
    assert head_module(model).training


def test_partial_unfreezes_the_last_stages_with_a_gentler_rate():
    model = create_model("resnet18", num_classes=3)
    groups = apply_strategy(model, "partial", 2, 1e-3, 0.1, pretrained=True)
    layers = {n.split(".")[0] for n in _trainable(model)}
    assert layers == {"layer3", "layer4", "fc"}
    backbone = next(g for g in groups if g["name"] == "backbone")
    assert backbone["lr"] == pytest.approx(1e-4)
    set_train_mode(model)
    assert model.layer4[0].bn1.training and not model.layer2[0].bn1.training


def test_full_fine_tune_and_scratch():
    model = create_model("mobilenet_v3_small", num_classes=3)
    groups = apply_strategy(model, "full", 1, 1e-3, 0.2, pretrained=True)
    assert len(_trainable(model)) == len(list(model.parameters()))
    assert [g["lr"] for g in groups] == [1e-3, pytest.approx(2e-4)]
    groups = apply_strategy(model, "scratch", 1, 1e-3, 0.2, pretrained=False)
    assert {g["lr"] for g in groups} == {1e-3}
    assert len(stages(model)) > 5
    with pytest.raises(StudioError, match="pre-trained"):
        apply_strategy(model, "linear", 1, 1e-3, 0.1, pretrained=False)


class _Payload:
    def __reduce__(self):
        return (os.system, (f"touch {os.environ['STUDIO_HOME']}-pwned",))


def test_malicious_pickle_is_refused_even_when_forced(tmp_path: Path, monkeypatch):
    path = tmp_path / "evil.pth"
    path.write_bytes(pickle.dumps({"conv1.weight": _Payload()}))
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    with pytest.raises(StudioError, match="never runs pickled code"):
        create_model("resnet18", num_classes=3, weights=str(path))
    assert not Path(os.environ["STUDIO_HOME"] + "-pwned").exists()


class _FakeWeights:
    def __init__(self, url: str) -> None:
        self.url = url


def _serve(tmp_path: Path, monkeypatch, data: bytes, good_hash: bool = True) -> Path:
    digest = hashlib.sha256(data).hexdigest()[:8] if good_hash else "deadbeef"
    source = tmp_path / "server" / f"resnet18-{digest}.pth"
    source.parent.mkdir()
    source.write_bytes(data)
    monkeypatch.setattr(
        weights_module, "default_weights", lambda spec: _FakeWeights(source.as_uri())
    )
    return source


def test_download_reports_progress_and_lands_in_the_torch_cache(tmp_path: Path, monkeypatch):
    import io

    buffer = io.BytesIO()
    torch.save(create_model("resnet18", 3).state_dict(), buffer)
    _serve(tmp_path, monkeypatch, buffer.getvalue())
    spec = get_spec("resnet18")
    assert weights_module.weights_state(spec) == "downloadable"
    seen: list[tuple[int, int]] = []
    weights_module.download(spec, lambda done, total: seen.append((done, total)))
    assert weights_module.weights_state(spec) == "cached"
    assert seen[-1][0] == seen[-1][1] == len(buffer.getvalue()) and len(seen) > 1
    assert str(weights_module.cache_path(spec)).startswith(os.environ["TORCH_HOME"])


def test_corrupt_or_cancelled_download_leaves_nothing(tmp_path: Path, monkeypatch):
    _serve(tmp_path, monkeypatch, b"x" * 300_000, good_hash=False)
    spec = get_spec("resnet18")
    with pytest.raises(StudioError, match="corrupt"):
        weights_module.download(spec)
    token = StopToken()
    token.stop()
    with pytest.raises(StudioError, match="cancelled"):
        weights_module.download(spec, token=token)
    assert list(weights_module.cache_path(spec).parent.iterdir()) == []


def test_a_killed_downloads_partial_file_is_removed_by_the_next(tmp_path: Path, monkeypatch):
    _serve(tmp_path, monkeypatch, b"x" * 1000, good_hash=False)
    spec = get_spec("resnet18")
    target = weights_module.cache_path(spec)
    target.parent.mkdir(parents=True)
    left = target.parent / f".{target.name}.k1ll3d.partial"
    left.write_bytes(b"x" * 500)
    os.utime(left, (time.time() - 7200, time.time() - 7200))
    with pytest.raises(StudioError, match="corrupt"):
        weights_module.download(spec)
    assert list(target.parent.iterdir()) == []


def test_cli_models_json_and_strategy_errors(dataset: Path, tmp_path: Path):
    done = studio("models", "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert {r["name"] for r in rows} >= REQUIRED
    done = studio(
        "train",
        "--data",
        str(dataset),
        "--model",
        "resnet18",
        "--strategy",
        "linear",
        "--weights",
        "none",
        "--out",
        str(tmp_path / "r"),
    )
    assert done.returncode == 2 and "pre-trained" in done.stderr


def test_model_picker_lists_the_catalogue_and_switches_strategy(qtbot, window):
    picker = window.picker
    with qtbot.waitSignal(picker.catalogue_loaded, timeout=60_000):
        picker.load_catalogue()
    assert picker.table.rowCount() == len(CATALOG)
    row = next(r for r in range(picker.table.rowCount()) if picker._name_at(r) == "resnet18")
    assert float(picker.table.item(row, 3).text()) == pytest.approx(69.758, abs=0.01)
    picker.table.selectRow(row)
    cfg = window.model.config
    assert (cfg.model.name, cfg.model.weights, cfg.model.strategy) == (
        "resnet18",
        "imagenet",
        "full",
    )
    assert cfg.train.image_size == 224
    settle(qtbot)  # the picker shows the new choice in its next pass
    assert picker.download.isVisible() or not picker.isVisible()
    picker.strategy.setCurrentIndex(picker.strategy.findData("partial"))
    picker.strategy.activated.emit(picker.strategy.currentIndex())
    settle(qtbot)
    assert cfg.model.strategy == "partial" and picker.unfreeze.isEnabled()
    picker.filter.setText("mobile")
    visible = [
        picker._name_at(r)
        for r in range(picker.table.rowCount())
        if not picker.table.isRowHidden(r)
    ]
    assert visible == ["mobilenet_v3_small", "mobilenet_v3_large"]
    picker.table.sortItems(1)  # by parameters, numerically
    assert picker._name_at(0) == "small_cnn"


def _weights_file(tmp_path: Path, name: str = "resnet18") -> Path:
    torch.manual_seed(0)
    path = tmp_path / f"{name}.pth"
    torch.save(create_model(name, num_classes=1000).state_dict(), path)
    return path


def _probe_config(data: Path, weights: Path, cache: bool):
    from studio.config import AugmentConfig, ProjectConfig

    cfg = ProjectConfig()
    cfg.data.sources = [data]
    cfg.augment = AugmentConfig.from_preset("none")
    cfg.model.name, cfg.model.weights, cfg.model.strategy = "resnet18", str(weights), "linear"
    cfg.train.epochs, cfg.train.image_size, cfg.train.batch_size = 2, 32, 8
    cfg.train.feature_cache = cache
    return cfg


def test_linear_probe_on_cached_features_matches_the_full_pass(dataset: Path, tmp_path: Path):
    from studio.engine.events import EpochEnded, Notice
    from studio.engine.training.trainer import fit

    weights = _weights_file(tmp_path)
    runs = {}
    for cache in (True, False):
        events: list = []
        fit(_probe_config(dataset, weights, cache), events.append, run_dir=tmp_path / str(cache))
        runs[cache] = events
    cached = [e for e in runs[True] if isinstance(e, EpochEnded)]
    full = [e for e in runs[False] if isinstance(e, EpochEnded)]
    assert [e.val_loss for e in cached] == pytest.approx([e.val_loss for e in full], rel=1e-4)
    assert any(isinstance(e, Notice) and "features once" in e.message for e in runs[True])
    assert not any(isinstance(e, Notice) for e in runs[False])
    assert len(list((tmp_path / "True").glob("features-*.safetensors"))) == 1
    assert not list((tmp_path / "False").glob("features-*"))


def test_feature_cache_hits_and_is_invalidated_by_a_changed_file(dataset: Path, tmp_path: Path):
    from studio.engine.control import StopToken
    from studio.engine.training import feature_cache
    from studio.engine.training.trainer import _prepare

    cfg = _probe_config(dataset, _weights_file(tmp_path), cache=True)
    run = _prepare(cfg, lambda e: None, tmp_path / "run")
    key = feature_cache.cache_key(cfg, run.mean, run.std, *run.keys)
    first, hit = feature_cache.features(run, StopToken(), key)
    assert not hit and first["train_x"].shape == (len(run.train_ds), 512)
    again, hit = feature_cache.features(run, StopToken(), key)
    assert hit and torch.equal(again["val_x"], first["val_x"])
    changed = Path(run.train_ds.paths[0])
    changed.write_bytes(changed.read_bytes() + b"\0")  # different content, still a PNG
    run2 = _prepare(cfg, lambda e: None, tmp_path / "run")
    assert feature_cache.cache_key(cfg, run2.mean, run2.std, *run2.keys) != key
    from studio.config import AugmentConfig

    cfg.augment = AugmentConfig.from_preset("light")
    assert not feature_cache.applies(cfg)  # augmentation: every epoch sees new pixels


def test_picker_refuses_a_bad_weights_file_and_keeps_the_previous_choice(
    qtbot, window, tmp_path: Path
):
    picker = window.picker
    window.model.update("model", name="resnet18", weights="imagenet", strategy="full")
    evil = tmp_path / "evil.pth"
    evil.write_bytes(pickle.dumps({"conv1.weight": _Payload()}))
    with qtbot.waitSignal(picker.weights_rejected, timeout=60_000) as blocker:
        picker.load_weights_file(evil)
    assert "never runs pickled code" in blocker.args[0]
    assert window.model.config.model.weights == "imagenet"
    good = _weights_file(tmp_path)
    wrong = tmp_path / "vgg.pth"
    torch.save(create_model("mobilenet_v3_small", 1000).state_dict(), wrong)
    with qtbot.waitSignal(picker.weights_rejected, timeout=60_000) as blocker:
        picker.load_weights_file(wrong)
    assert "does not fit" in blocker.args[0]
    picker.load_weights_file(good)
    qtbot.waitUntil(lambda: window.model.config.model.weights == str(good), timeout=60_000)
    settle(qtbot)
    assert "resnet18.pth" in picker.note.text()
