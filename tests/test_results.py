"""Evaluation, prediction, Grad-CAM and verified export of a finished run (engine and CLI)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import make_dataset

from studio.config import ProjectConfig
from studio.engine.results import evaluation as ev
from studio.engine.results import export as ex
from studio.engine.results.metrics import classification_metrics
from studio.errors import StudioError


def train_tiny(
    data: Path,
    run_dir: Path,
    epochs: int = 2,
    test_fraction: float = 0.2,
    model: str = "small_cnn",
):
    """A seconds-long small_cnn run on ``data`` saved into ``run_dir``."""
    from studio.engine.training.trainer import fit

    config = ProjectConfig.model_validate(
        {
            "data": {"sources": [data], "test_fraction": test_fraction},
            "model": {"name": model, "weights": "none", "strategy": "scratch"},
            "train": {
                "epochs": epochs,
                "image_size": 32,
                "batch_size": 8,
                "device": "cpu",
                "num_workers": 0,
            },
        }
    )
    return fit(config, lambda event: None, None, run_dir)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("results")
    data = make_dataset(root / "data")
    result = train_tiny(data, root / "run")
    return root / "run", result


def test_metrics_worked_out_by_hand():
    r = classification_metrics([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], ["a", "b", "c"])
    assert r["confusion"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert r["accuracy"] == pytest.approx(4 / 6)
    per = {c["class"]: c for c in r["per_class"]}
    assert [per[c]["precision"] for c in "abc"] == pytest.approx([1.0, 0.5, 0.5])
    assert [per[c]["recall"] for c in "abc"] == pytest.approx([2 / 3, 0.5, 1.0])
    assert [per[c]["f1"] for c in "abc"] == pytest.approx([0.8, 0.5, 2 / 3])
    assert [per[c]["support"] for c in "abc"] == [3, 2, 1]
    assert r["macro"]["f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert r["weighted"]["f1"] == pytest.approx((3 * 0.8 + 2 * 0.5 + 2 / 3) / 6)
    assert r["confusion_normalised"][0] == pytest.approx([2 / 3, 1 / 3, 0])
    assert r["top_k"] == {}  # only with more than 5 classes


def test_top_k_accuracy_with_more_than_five_classes():
    probs = np.eye(6)[[1, 2, 3, 4, 5, 0]] * 0.5 + np.eye(6)[[0, 1, 2, 3, 4, 5]] * 0.3
    probs[0] = [0.0, 0.1, 0.2, 0.3, 0.4, 0.05]  # true class 0 ranks last
    r = classification_metrics(range(6), probs.argmax(1), list("abcdef"), probs)
    assert r["accuracy"] == 0.0
    assert r["top_k"]["3"] == pytest.approx(5 / 6)
    assert r["top_k"]["5"] == pytest.approx(5 / 6)


def test_evaluation_agrees_with_training(trained):
    run_dir, fit_result = trained
    r = ev.evaluate_split(run_dir)
    val_count = sum(
        c["val"] for c in json.loads((run_dir / "split.json").read_text())["counts"].values()
    )
    assert r["count"] == val_count == int(np.sum(r["confusion"]))
    assert r["accuracy"] == pytest.approx(fit_result.best_val_acc)
    for row in r["confusion_normalised"]:
        assert sum(row) == pytest.approx(1.0) or sum(row) == 0
    losses = [im["loss"] for im in r["images"]]
    assert losses == sorted(losses, reverse=True)
    assert ev.load_results(run_dir)["val"]["accuracy"] == r["accuracy"]
    for t, true in enumerate(r["classes"]):  # every matrix cell opens its own images
        for p, pred in enumerate(r["classes"]):
            assert len(ev.cell_images(r, true, pred)) == r["confusion"][t][p]
    assert all(im["true"] != im["predicted"] for im in ev.top_losses(r))


def test_predict_matches_evaluation(trained):
    run_dir, _ = trained
    r = ev.evaluate_split(run_dir, save=False)
    preds = ev.predict(run_dir, [im["path"] for im in r["images"]], top_k=3)
    for im, pred in zip(r["images"], preds, strict=True):
        assert pred.top[0][0] == im["predicted"]
        assert pred.top[0][1] == pytest.approx(im["confidence"], abs=1e-6)
        assert len(pred.top) == 3


def test_test_split_is_counted_and_computed_once(trained):
    run_dir, _ = trained
    first, looks = ev.evaluate_test_split(run_dir)
    assert looks == 1 and first["split"] == "test" and first["count"] > 0
    second, looks = ev.evaluate_test_split(run_dir)
    assert looks == 2 == ev.looks_at_test(run_dir)
    assert second["seconds"] == first["seconds"]  # cached, not recomputed


def test_grad_cam_heat_map(trained):
    from studio.engine.results.gradcam import grad_cam, overlay

    run_dir, _ = trained
    run = ev.load_run(run_dir)
    path = ev.split_files(run, "val")[0][0]
    image, heat, cls = grad_cam(run, path)
    assert image.shape == (32, 32, 3) and heat.shape == (32, 32)
    assert heat.min() >= 0.0 and heat.max() <= 1.0
    assert run.classes[cls] == ev.predict(run, [path])[0].top[0][0]
    assert overlay(image, heat).shape == (32, 32, 3)


@pytest.mark.parametrize("fmt", ["torchscript", "onnx", "state_dict"])
def test_export_round_trip_and_example_script(trained, tmp_path, fmt, monkeypatch, capsys):
    run_dir, _ = trained
    report = ex.export(run_dir, fmt, tmp_path / "bundle")
    assert report.max_abs_diff < 1e-4 and report.agreement == 1.0 and report.images > 0
    bundle = tmp_path / "bundle"
    card = json.loads((bundle / "model_card.json").read_text())
    assert (bundle / card["file"]).is_file()
    assert card["classes"] == ["birds", "cats", "dogs"] and card["image_size"] == 32
    assert len(card["mean"]) == 3 and card["training_config_sha256"]
    assert card["verification"]["top1_agreement"] == 1.0
    assert [p.name for p in tmp_path.iterdir()] == ["bundle"]  # no temporary left behind
    image = ev.split_files(ev.load_run(run_dir), "val")[0][0]
    expected = ev.predict(run_dir, [image])[0].top[0][0]
    if fmt != "onnx":  # in-process, sparing a torch start-up (a subprocess test follows)
        import runpy

        monkeypatch.setattr(sys, "argv", ["predict_example.py", str(image)])
        runpy.run_path(str(bundle / "predict_example.py"), run_name="__main__")
        printed = capsys.readouterr().out
    else:
        printed = subprocess.run(
            [sys.executable, str(bundle / "predict_example.py"), str(image)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    assert printed.split("\t")[1] == expected


def test_tampered_export_is_refused(trained, tmp_path, monkeypatch):
    from safetensors.torch import load_file, save_file

    run_dir, _ = trained
    ex.export(run_dir, "state_dict", tmp_path / "bundle")
    weights = tmp_path / "bundle" / "model.safetensors"
    state = load_file(str(weights))
    name = next(k for k in state if k.endswith("weight") and state[k].ndim == 2)
    state[name] = -state[name]
    save_file(state, str(weights))
    with pytest.raises(ex.VerificationFailed, match="disagrees"):
        ex.verify_bundle(run_dir, tmp_path / "bundle")

    def off_by_a_bit(*args):
        return ex.app_logits(*(args[0], args[-1])) + 0.5

    monkeypatch.setattr(ex, "exported_logits", off_by_a_bit)
    with pytest.raises(ex.VerificationFailed):
        ex.export(run_dir, "onnx", tmp_path / "refused")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]


def test_bad_input_is_one_clear_error(trained, tmp_path):
    run_dir, _ = trained
    with pytest.raises(StudioError, match="not found"):
        ev.load_run(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(StudioError, match="no trained model"):
        ev.load_run(tmp_path / "empty")
    with pytest.raises(StudioError, match="already exists"):
        ex.export(run_dir, "onnx", run_dir)
    with pytest.raises(StudioError, match="Unknown export format"):
        ex.export(run_dir, "pickle", tmp_path / "x")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    assert ev.predict(run_dir, [broken])[0].error


def _studio(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "studio", *args], capture_output=True, text=True, timeout=120
    )


def test_cli_predict_and_export(trained, tmp_path, capsys):
    run_dir, _ = trained
    run = ev.load_run(run_dir)
    images = ev.split_files(run, "val")[0]
    folder = images[0].parent
    from studio.cli.main import main

    csv_file = str(tmp_path / "p.csv")
    assert main(["predict", str(run_dir), str(folder), "--json", "--csv", csv_file]) == 0
    rows = json.loads(capsys.readouterr().out)
    expected = ev.predict(run, sorted(folder.glob("*.png")))
    assert [r["predictions"][0]["class"] for r in rows] == [p.top[0][0] for p in expected]
    assert (tmp_path / "p.csv").read_text().splitlines()[0].startswith("path,class_1")
    out = _studio("export", str(run_dir), "--format", "onnx", "--out", str(tmp_path / "b"))
    assert out.returncode == 0, out.stderr
    assert "top-1 agreement 100%" in out.stdout and (tmp_path / "b" / "model.onnx").is_file()
    assert main(["predict", str(tmp_path / "nope"), str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Run folder not found" in err


def test_missing_exporter_and_unwritable_folder_are_explained(trained, tmp_path, monkeypatch):
    run_dir, _ = trained
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(StudioError, match="Cannot write"):
        ex.export(run_dir, "state_dict", tmp_path / "a_file" / "bundle")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if not installed
    with pytest.raises(StudioError, match="uv sync --extra onnx"):
        ex.export(run_dir, "onnx", tmp_path / "bundle")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]


def test_cli_evaluate_with_test_split(trained, capsys):
    from studio.cli.main import main

    run_dir, _ = trained
    assert main(["evaluate", str(run_dir), "--test", "--json", "--device", "cpu"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["val"]["count"] == int(np.sum(out["val"]["confusion"]))
    assert out["test"]["split"] == "test" and out["test_looks"] >= 1
    assert main(["evaluate", str(run_dir), "--device", "cpu"]) == 0
    assert "Validation: accuracy" in capsys.readouterr().out


def test_torchvision_backbone_grad_cam_and_state_dict_example(
    dataset, tmp_path, monkeypatch, capsys
):
    from studio.engine.results.gradcam import grad_cam, supports_gradcam

    run_dir = tmp_path / "run"
    fitted = train_tiny(dataset, run_dir, epochs=1, test_fraction=0.0, model="mobilenet_v3_small")
    assert fitted.status == "finished"
    run = ev.load_run(run_dir)
    image = ev.split_files(run, "val")[0][0]
    _, heat, cls = grad_cam(run, image)
    assert heat.shape == (32, 32) and run.classes[cls] == ev.predict(run, [image])[0].top[0][0]
    assert not supports_gradcam("vit_b_16")
    report = ex.export(run_dir, "state_dict", tmp_path / "bundle")
    assert report.agreement == 1.0 and report.max_abs_diff < 1e-4
    import runpy

    monkeypatch.setattr(sys, "argv", ["predict_example.py", str(image)])
    runpy.run_path(str(tmp_path / "bundle" / "predict_example.py"), run_name="__main__")
    printed = capsys.readouterr().out  # the example rebuilt the torchvision model by itself
    assert printed.split("\t")[1] == ev.predict(run, [image])[0].top[0][0]
