"""Data-parallel training: two gloo processes on the CPU, started by torchrun (directly and
through ``studio train --gpus``), as a user starts them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from conftest import make_dataset

from studio.cli.main import main as studio_main
from studio.engine.data.loaders import ImageDataset, make_loader
from studio.engine.training import distributed
from studio.errors import StudioError

needs_gloo = pytest.mark.skipif(
    not (dist.is_available() and dist.is_gloo_available()),
    reason="this PyTorch has no torch.distributed with gloo",
)

TRAIN = ["--model", "small_cnn", "--weights", "none", "--image-size", "32", "--seed", "1"]


def command(*args: str) -> list[str]:
    return [sys.executable, *args]


def environment() -> dict[str, str]:
    return {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1", "OMP_NUM_THREADS": "1"}


def events(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]


def final_val_acc(run_dir: Path) -> float:
    return [e for e in events(run_dir) if e["event"] == "epoch_ended"][-1]["val_acc"]


@needs_gloo
def test_two_processes_train_like_one(tmp_path: Path, capsys):
    data = make_dataset(tmp_path / "data", per_class=12, size=32)
    options = ["--data", str(data), *TRAIN, "--epochs", "2", "--batch-size", "8", "--lr", "0.003"]
    out = tmp_path / "runs" / "two"
    done = subprocess.run(
        command(
            "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
            "-m", "studio", "train", *options, "--out", str(out),
        ),
        capture_output=True, text=True, timeout=300, env=environment(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("Run finished") == 1  # rank 0 alone reports
    assert [p.parent for p in tmp_path.rglob("events.jsonl")] == [out]
    environment_json = json.loads((out / "environment.json").read_text())
    assert (environment_json["world_size"], environment_json["backend"]) == (2, "gloo")
    log = events(out)
    assert [e["event"] for e in log].count("run_started") == 1
    assert log[-1]["status"] == "finished"

    alone = tmp_path / "runs" / "one"
    assert studio_main(["train", *options, "--out", str(alone), "--quiet"]) == 0
    capsys.readouterr()
    started = [next(e for e in events(r) if e["event"] == "run_started") for r in (out, alone)]
    assert started[0]["val_images"] == started[1]["val_images"]  # each counted once, over both
    assert abs(final_val_acc(out) - final_val_acc(alone)) <= 0.12  # one image in nine


def order(shard: tuple[int, int] | None, epochs: int = 2) -> list[list[tuple[int, int]]]:
    """Each epoch's ``(position, augmentation seed)`` order of a 10-image training loader."""
    dataset = ImageDataset([Path(f"{i}.png") for i in range(10)], [0] * 10, lambda image: image)
    sampler = make_loader(dataset, 4, True, 0, torch.device("cpu"), 7, shard=shard).sampler
    return [list(sampler) for _ in range(epochs)]


def test_shards_keep_the_one_process_order():
    alone = order(None)
    assert order((0, 1)) == alone  # one process: exactly the one-process order
    first, second = order((0, 2)), order((1, 2))
    for epoch, whole in enumerate(alone):
        assert first[epoch] == whole[0::2] and second[epoch] == whole[1::2]
    three = [order((r, 3))[0] for r in range(3)]  # 10 images: padded to 4 each
    assert [len(part) for part in three] == [4, 4, 4]
    assert {item for part in three for item in part} == set(alone[0])


def test_batch_and_process_counts_are_checked():
    place = distributed.World(rank=0, size=4, local_rank=0, local_size=4)
    assert distributed.split_batch(64, place) == 16
    with pytest.raises(StudioError, match=r"multiple of 4 \(e.g. 28 or 32\)"):
        distributed.split_batch(30, place)
    with pytest.raises(StudioError, match="cores"):
        distributed.check_cpu_processes((os.cpu_count() or 1) + 1)


def children(pid: int) -> list[int]:
    """The processes ``pid`` started (Linux: from /proc)."""
    kids = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            kids.append(int(entry.name))
    return kids


def wait_for(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)  # polling another process's files: there is no signal to wait on


@needs_gloo
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the workers in /proc")
def test_killed_worker_ends_the_run_and_one_process_resumes_it(tmp_path: Path, capsys):
    data = make_dataset(tmp_path / "data", per_class=12, size=32)
    out = tmp_path / "run"
    launcher = subprocess.Popen(
        command(
            "-m", "studio", "train", "--gpus", "2", "--device", "cpu", "--data", str(data),
            *TRAIN, "--epochs", "4", "--batch-size", "2", "--out", str(out),
        ),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment(),
    )  # fmt: skip
    try:
        log = out / "events.jsonl"
        wait_for(lambda: log.is_file() and '"epoch_ended"' in log.read_text(), 240)
        rank0 = int((out / "run.lock").read_text())
        (rank1,) = [pid for pid in children(launcher.pid) if pid != rank0]
        os.kill(rank1, signal.SIGKILL)  # during epoch 2
        killed = time.monotonic()
        output, _ = launcher.communicate(timeout=60)
        took = time.monotonic() - killed
    finally:
        launcher.kill()
    assert launcher.returncode == 1, output[-3000:]
    assert took < 30, output[-3000:]  # seconds on a busy 2-core machine; no 5-minute timeout
    assert "training process 1 ended (signal 9)" in output
    final = events(out)[-1]
    assert final["event"] == "run_finished" and final["status"] == "interrupted"
    assert "--resume" in final["message"]

    assert studio_main(["train", "--resume", str(out), "--quiet"]) == 0  # one process
    capsys.readouterr()
    log = events(out)
    assert log[-1]["status"] == "finished"
    epochs = [e["epoch"] for e in log if e["event"] == "epoch_ended"]
    assert epochs[-1] == 4 and sorted(set(epochs)) == [1, 2, 3, 4]
