"""Reliability: no run is ever overwritten, and every bad input or fault gets one plain line
(in-process ``studio …`` calls, a subprocess where the process itself matters)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import make_dataset

from studio.cli.main import main
from studio.engine.runs import files
from studio.engine.runs.eventlog import read_events


def train_args(data: Path, out: Path, *extra: str) -> list[str]:
    return [
        "train", "--data", str(data), "--model", "small_cnn", "--epochs", "1",
        "--batch-size", "8", "--image-size", "32", "--weights", "none", "--seed", "1",
        "--quiet", "--out", str(out), *extra,
    ]  # fmt: skip


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished run, copied by the tests that tamper with it."""
    root = tmp_path_factory.mktemp("trained")
    out = root / "run"
    assert main(train_args(make_dataset(root / "data"), out)) == 0
    return out


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_out_onto_an_existing_run_is_refused_unchanged(trained, dataset, tmp_path, capsys):
    run = shutil.copytree(trained, tmp_path / "run")
    before = snapshot(run)
    capsys.readouterr()
    assert main(train_args(dataset, run)) == 2
    line = one_line(capsys.readouterr().err)
    assert "already holds a run" in line and "--resume" in line
    assert snapshot(run) == before  # no second run mixed into its events, model kept


def test_a_run_folder_owned_by_a_live_process_is_refused(dataset, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / files.LOCK).write_text(f"{os.getppid()}\n")  # a live process that is not us
    assert main(train_args(dataset, out)) == 2
    assert "in use by another training" in one_line(capsys.readouterr().err)
    assert (out / files.LOCK).read_text().strip() == str(os.getppid())  # still theirs
    assert not (out / files.EVENTS).exists()


def test_a_stale_lock_is_taken_over_and_released_at_the_end(dataset, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "run"
    out.mkdir()
    (out / files.LOCK).write_text(f"{dead.pid}\n")
    half = out / ".last-0001.safetensors.k1ll3d.tmp"  # the killed run's half-written checkpoint
    half.write_bytes(b"\0" * 1000)
    assert main(train_args(dataset, out)) == 0
    assert not (out / files.LOCK).exists()
    assert (out / files.BEST).is_file()
    assert not half.exists() and not list(out.glob(".*.tmp"))


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--workers", "-3"], "loader workers"),
        (["--workers", "many"], "--workers"),
        (["--seed", "4294967296"], "seed"),
    ],
)
def test_bad_settings_get_one_line(dataset, tmp_path, capsys, extra, words):
    assert main(train_args(dataset, tmp_path / "run", *extra)) == 2
    assert words in one_line(capsys.readouterr().err)


def test_no_validation_images_is_refused_before_training(tmp_path, capsys):
    data = make_dataset(tmp_path / "data", per_class=1)
    out = tmp_path / "run"
    assert main(train_args(data, out, "--val-fraction", "0.05")) == 2
    assert "No validation images" in one_line(capsys.readouterr().err)
    assert not (out / files.BEST).exists()


def test_a_run_folder_that_cannot_be_created_is_one_line(dataset, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")  # like read-only storage: mkdir fails
    assert main(train_args(dataset, blocker / "run")) == 2
    assert "Cannot create the run folder" in one_line(capsys.readouterr().err)


def test_ctrl_c_during_start_up_exits_quietly(dataset, tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("studio.cli.train.resolved", interrupted)
    assert main(train_args(dataset, tmp_path / "run")) == 130
    assert one_line(capsys.readouterr().err) == "studio: interrupted"


def test_a_closed_pipe_exits_quietly(monkeypatch, capsys):
    """``studio models | head -1``: the reader is gone before Studio writes."""
    read, write = os.pipe()
    os.close(read)
    with os.fdopen(write, "w") as pipe:
        monkeypatch.setattr(sys, "stdout", pipe)
        assert main(["models"]) == 1
        monkeypatch.undo()
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("size", [0, 100000, "224", True])
def test_a_tampered_model_json_is_one_line(trained, tmp_path, capsys, size):
    run = shutil.copytree(trained, tmp_path / "run")
    meta = json.loads((run / files.MODEL).read_text())
    (run / files.MODEL).write_text(json.dumps({**meta, "image_size": size}))
    assert main(["evaluate", str(run), "--device", "cpu"]) == 2
    assert "image_size must be 16–1024" in one_line(capsys.readouterr().err)


def test_a_split_json_that_is_a_list_is_one_line(trained, tmp_path, capsys):
    run = shutil.copytree(trained, tmp_path / "run")
    (run / files.SPLIT).write_text("[1, 2, 3]")
    assert main(["evaluate", str(run), "--device", "cpu"]) == 2
    assert "split.json is damaged" in one_line(capsys.readouterr().err)


def test_the_default_run_folder_is_studios_never_the_current_directory(
    dataset, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    args = train_args(dataset, tmp_path)
    assert main(args[: args.index("--out")]) == 0
    assert not (tmp_path / "runs").exists()
    runs = Path(os.environ["STUDIO_HOME"]) / "runs"
    (run,) = [p for p in runs.iterdir() if p.is_dir()]  # beside it: the history of such runs
    assert f"Run folder: {run}" in capsys.readouterr().out and (run / files.BEST).is_file()


def test_a_run_that_fails_mid_way_says_why_once_and_logs_it(dataset, tmp_path, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("the device went away")

    monkeypatch.setattr("studio.engine.training.trainer._epoch", broken)
    out = tmp_path / "run"
    assert main(train_args(dataset, out)) == 1
    assert one_line(capsys.readouterr().err) == "studio: error: RuntimeError: the device went away"
    events = [json.loads(line) for line in (out / files.EVENTS).read_text().splitlines()]
    assert events[0]["event"] == "run_started" and events[-1]["event"] == "run_finished"
    assert events[-1]["status"] == "failed" and "device went away" in events[-1]["message"]
    assert not (out / files.LOCK).exists()


def test_scan_of_a_folder_without_images_is_one_line(tmp_path, capsys):
    assert main(["scan", str(tmp_path)]) == 2
    assert "No images found" in one_line(capsys.readouterr().err)


def test_predict_prints_one_line_per_image_whatever_the_names(trained, tmp_path, capsys):
    config = json.loads((trained / files.CONFIG).read_text())
    source = Path(os.path.normpath(trained / config["data"]["sources"][0]))
    images = tmp_path / "images"
    images.mkdir()
    for name in ("plain.png", "two\nlines.png", "tab\tbed.png"):
        shutil.copy(next(source.rglob("*.png")), images / name)
    capsys.readouterr()
    assert main(["predict", str(trained), str(images), "--device", "cpu"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all(line.count("\t") == 1 for line in lines)
    assert any(line.startswith(str(images / "two\\nlines.png") + "\t") for line in lines)


def test_a_full_disk_before_any_checkpoint_does_not_claim_one(dataset, tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("studio.engine.runs.checkpoints.save_best", full)
    out = tmp_path / "run"
    assert main(train_args(dataset, out)) == 1
    (final,) = [e for e in read_events(out / files.EVENTS) if e["event"] == "run_finished"]
    assert final["status"] == "failed" and "No checkpoint was saved yet" in final["message"]


def test_an_export_decodes_as_studio_names_its_packages_and_skips_bad_images(
    trained, tmp_path, monkeypatch, capsys
):
    import runpy

    from PIL import Image

    from studio.engine.results import evaluation

    assert (
        main(["export", str(trained), "--format", "state_dict", "--out", str(tmp_path / "b")]) == 0
    )
    bundle = tmp_path / "b"
    card = json.loads((bundle / "model_card.json").read_text())
    needed = {line.split("==")[0] for line in (bundle / "requirements.txt").read_text().split()}
    assert (
        needed
        == {"numpy", "pillow", "torch", "safetensors"}
        == {r.split("==")[0] for r in card["requirements"]}
    )
    script = (bundle / "predict_example.py").read_text()
    assert "safetensors" in script.split('"""')[1] and "def _scale_to_uint8" in script
    deep = tmp_path / "deep.png"  # 16-bit grey: clipping would make it white
    Image.fromarray((np.arange(32 * 32).reshape(32, 32) * 40).astype(np.uint16)).save(deep)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    capsys.readouterr()
    monkeypatch.setattr(sys, "argv", ["predict_example.py", str(deep), str(broken)])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(bundle / "predict_example.py"), run_name="__main__")
    assert exit_info.value.code == 1
    first, second = capsys.readouterr().out.splitlines()
    expected = evaluation.predict(trained, [deep])[0].top[0][0]
    assert first.split("\t")[:2] == [str(deep), expected]
    assert second.startswith(f"{broken}\terror: ")


def with_its_images(trained: Path, tmp_path: Path) -> Path:
    """A copy of the run together with its images (it stores them relative to itself)."""
    return shutil.copytree(trained.parent, tmp_path / "copy") / trained.name


def test_evaluate_on_a_read_only_run_folder_shows_without_saving(
    trained, tmp_path, monkeypatch, capsys
):
    run = with_its_images(trained, tmp_path)
    (run / files.RESULTS).unlink(missing_ok=True)
    monkeypatch.setattr("studio.cli.evaluate.os.access", lambda path, mode: False)
    assert main(["evaluate", str(run), "--device", "cpu"]) == 0
    captured = capsys.readouterr()
    assert "Validation: accuracy" in captured.out and "read-only" in one_line(captured.err)
    assert not (run / files.RESULTS).exists()


@pytest.mark.parametrize(
    "pointer",
    [
        {"epoch": 1, "weights": "../../elsewhere.safetensors", "state": "last-0001.pt"},
        {"epoch": 1, "weights": "/etc/passwd", "state": "last-0001.pt"},
        {"epoch": "1", "weights": "last-0001.safetensors", "state": "last-0001.pt"},
    ],
)
def test_a_last_json_pointing_outside_its_run_is_refused(trained, tmp_path, capsys, pointer):
    run = with_its_images(trained, tmp_path)
    (run / files.LAST).write_text(json.dumps(pointer))
    assert main(["train", "--resume", str(run), "--quiet"]) == 2
    assert "last.json" in one_line(capsys.readouterr().err)
