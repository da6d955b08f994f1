"""``studio train`` in a subprocess, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.config import SCHEMA_VERSION


def studio(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "studio", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=cwd,
    )


def test_train_writes_events_jsonl(dataset: Path, tmp_path: Path):
    out = tmp_path / "run"
    done = studio(
        "train",
        "--data",
        str(dataset),
        "--model",
        "small_cnn",
        "--epochs",
        "2",
        "--batch-size",
        "8",
        "--lr",
        "0.003",
        "--image-size",
        "32",
        "--seed",
        "1",
        "--weights",
        "none",
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    assert "epoch   2/2" in done.stdout and "Run finished" in done.stdout
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    names = [e["event"] for e in events]
    assert names[0] == "run_started" and names[-1] == "run_finished"
    epochs = [e for e in events if e["event"] == "epoch_ended"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    for key in (
        "train_loss",
        "train_acc",
        "val_loss",
        "val_acc",
        "lr",
        "seconds",
        "images_per_second",
    ):
        assert all(isinstance(e[key], float) for e in epochs), key
    assert events[-1]["status"] == "finished"
    assert events[-1]["best_epoch"] in (1, 2) and 0 <= events[-1]["best_val_acc"] <= 1
    config = json.loads((out / "config.json").read_text())
    assert config["train"]["epochs"] == 2 and config["schema_version"] == SCHEMA_VERSION


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "{tmp}/missing"], "Folder not found"),
        (["--data", "{data}/cats"], "only 1 class"),
        (["--data", "{broken}"], "could be read"),
        (["--data", "{data}", "--model", "resnet9000"], "invalid choice"),
        (["--data", "{data}", "--epochs", "0"], "invalid epochs"),
        (["--data", "{data}", "--model", "resnet18", "--weights", "{tmp}/x.pth"], "not found"),
    ],
)
def test_bad_input_exits_2_with_one_line(dataset: Path, tmp_path: Path, args, message):
    broken = tmp_path / "broken"
    for name in ("a", "b"):
        (broken / name).mkdir(parents=True)
        (broken / name / "x.png").write_text("not an image")
    args = [a.format(tmp=tmp_path, data=dataset, broken=broken) for a in args]
    done = studio("train", "--model", "small_cnn", *args, "--out", str(tmp_path / "run"))
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") <= 1 or "usage:" in done.stderr
