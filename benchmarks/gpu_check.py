"""GPU truth: what Studio's CUDA path (mixed precision, channels-last, torch.compile, loader
workers, pinned memory) really gives on this machine, and whether Studio's engine keeps the
GPU fed: images/s through ``RunSession`` end to end vs a loop over synthetic tensors of the
same model (goal: ratio ≥ 0.9). With several GPUs, the data-parallel speed-up of
``studio train --gpus N``.

    uv run python benchmarks/gpu_check.py [--quick] [--json results.json]

On a GPU it measures ResNet-50 at 224 px. Without one (or with ``--quick``) it runs the same
checks with small sizes (ResNet-18, 32 px, a few steps) so CI keeps the script working; those
numbers say nothing about a GPU.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

FULL = {"model": "resnet50", "size": 224, "batch": 64, "steps": 30, "images": 1024, "epochs": 3}
QUICK = {"model": "resnet18", "size": 32, "batch": 8, "steps": 2, "images": 32, "epochs": 2}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (automatic on a CPU)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    import torch

    cuda = torch.cuda.is_available()
    quick = args.quick or not cuda
    sizes = QUICK if quick else FULL
    device = torch.device("cuda" if cuda else "cpu")
    results: dict = {"quick": quick, **sizes, "device": describe(device)}
    show("device", results["device"])
    for name, options in variants(device, quick):
        rate = synthetic_rate(device, sizes, **options)
        results[f"synthetic {name}"] = rate
        show(f"synthetic {name}", rate if isinstance(rate, str) else f"{rate:,.1f} images/s")
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_images(Path(tmp) / "images", sizes["images"], sizes["size"])
        loaders = ((0, False),) if quick else ((0, False), (4, False), (4, True))
        for workers, pinned in loaders:  # starting worker processes alone takes seconds
            rate = loader_rate(folder, sizes, workers, pinned)
            results[f"loader workers={workers} pinned={pinned}"] = rate
            show(f"loader workers={workers} pinned={pinned}", f"{rate:,.1f} images/s")
        engine = engine_rate(folder, Path(tmp) / "run", sizes, device)
        baseline = results["synthetic engine settings"]
        results["engine end to end"] = engine
        results["engine / synthetic"] = engine / baseline
        show("engine end to end", f"{engine:,.1f} images/s")
        show("engine / synthetic", f"{engine / baseline:.2f} (goal ≥ 0.9)")
        if cuda and torch.cuda.device_count() > 1:
            results["data parallel"] = data_parallel(folder, Path(tmp), sizes)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return results


def describe(device) -> str:
    import torch

    if device.type != "cuda":
        return f"CPU ({os.cpu_count()} cores), torch {torch.__version__}"
    props = torch.cuda.get_device_properties(0)
    return (
        f"{props.name} ×{torch.cuda.device_count()}, compute capability "
        f"{props.major}.{props.minor}, {props.total_memory / 2**30:.0f} GiB, bf16 "
        f"{'yes' if torch.cuda.is_bf16_supported() else 'no'}, torch {torch.__version__}, "
        f"CUDA {torch.version.cuda}"
    )


def variants(device, quick: bool):
    """(name, options) of the synthetic-tensor loops: precisions, memory formats, compile."""
    import torch

    cuda = device.type == "cuda"
    engine_dtype = (
        (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16) if cuda else None
    )
    yield "engine settings", {"dtype": engine_dtype, "channels_last": cuda}
    yield "fp32", {"dtype": None, "channels_last": False}
    yield "fp32 channels-last", {"dtype": None, "channels_last": True}
    yield "bf16 autocast", {"dtype": torch.bfloat16, "channels_last": cuda}
    if cuda:
        yield "fp16 autocast", {"dtype": torch.float16, "channels_last": True}
    if quick:
        yield "torch.compile", {"skip": "skipped in quick mode (compiling takes minutes)"}
    else:
        yield "torch.compile", {"dtype": engine_dtype, "channels_last": True, "compile": True}


def synthetic_rate(device, sizes: dict, dtype=None, channels_last=False, compile=False, skip=""):
    """Training images/s of the model on random tensors already on the device."""
    if skip:
        return skip
    import torch
    import torchvision

    torch.manual_seed(0)
    model = getattr(torchvision.models, sizes["model"])(num_classes=10).to(device)
    memory = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=memory)
    step_model = torch.compile(model) if compile else model
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randn(sizes["batch"], 3, sizes["size"], sizes["size"], device=device)
    x = x.contiguous(memory_format=memory)
    y = torch.randint(0, 10, (sizes["batch"],), device=device)
    scaler = torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)

    def step() -> None:
        cast = torch.autocast(device.type, dtype=dtype) if dtype else contextlib.nullcontext()
        with cast:
            loss = torch.nn.functional.cross_entropy(step_model(x), y)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    try:
        for _ in range(3 if compile else 1):  # warm-up (and compilation)
            step()
        sync(device)
        start = time.perf_counter()
        for _ in range(sizes["steps"]):
            step()
        sync(device)
    except RuntimeError as exc:  # e.g. bf16 autocast not supported here
        return f"not available: {str(exc).splitlines()[0][:80]}"
    return sizes["steps"] * sizes["batch"] / (time.perf_counter() - start)


def sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize()


def write_images(folder: Path, count: int, size: int) -> Path:
    """``count`` random JPEGs in two class folders, a little larger than ``size``."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    side = size * 8 // 7
    for i in range(count):
        target = folder / f"class{i % 2}"
        target.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 255, (side, side, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(target / f"{i:05d}.jpg", quality=90)
    return folder


def loader_rate(folder: Path, sizes: dict, workers: int, pinned: bool) -> float:
    """Images/s that Studio's dataset and evaluation transform deliver through a DataLoader."""
    import multiprocessing

    import torch

    from studio.engine.augment.pipeline import eval_transform
    from studio.engine.data.index import scan_folders
    from studio.engine.data.loaders import ImageDataset

    index = scan_folders([folder])
    data = ImageDataset(index.paths, index.labels, eval_transform(sizes["size"]))
    extra = {"multiprocessing_context": multiprocessing.get_context("spawn")} if workers else {}
    loader = torch.utils.data.DataLoader(
        data, batch_size=sizes["batch"], num_workers=workers, pin_memory=pinned, **extra
    )
    start, seen = time.perf_counter(), 0
    for images, _ in loader:
        seen += len(images)
    return seen / (time.perf_counter() - start)


def engine_rate(folder: Path, run_dir: Path, sizes: dict, device) -> float:
    """Training images/s through ``RunSession``: decoding, augmentation, loader workers, the
    loop, events and checkpoints (median of the epochs after the first)."""
    from studio.config import ProjectConfig
    from studio.engine.events import EpochEnded
    from studio.engine.machine import detect
    from studio.engine.training.resolve import resolve
    from studio.engine.training.session import RunSession

    config = ProjectConfig()
    config.data.sources = [folder]
    config.model.name, config.model.weights = sizes["model"], "none"
    config.train.epochs, config.train.image_size = sizes["epochs"], sizes["size"]
    config.train.batch_size, config.train.device = sizes["batch"], device.type
    config.user_set = ["model.name", "model.weights", "train.image_size", "train.batch_size"]
    resolution = resolve(config, detect())
    rates: list[float] = []
    session = RunSession(resolution.config, run_dir, notices=resolution.notices)
    final = session.run(lambda e: isinstance(e, EpochEnded) and rates.append(e.images_per_second))
    if not rates:
        raise SystemExit(f"The engine run did not train: {final.message}")
    return statistics.median(rates[1:] or rates)


def data_parallel(folder: Path, tmp: Path, sizes: dict) -> dict:
    """``studio train --gpus N`` images/s for N = 1, 2, 4… and the speed-up over 1 GPU."""
    import torch

    helped = subprocess.run(
        [sys.executable, "-m", "studio", "train", "--help"], capture_output=True, text=True
    ).stdout
    if "--gpus" not in helped:
        show("data parallel", "not measured: this build has no studio train --gpus")
        return {}
    rates: dict = {}
    n = 1
    while n <= torch.cuda.device_count():
        out = tmp / f"ddp-{n}"
        args = ["--data", str(folder), "--model", sizes["model"], "--weights", "none"]
        args += ["--image-size", str(sizes["size"]), "--batch-size", str(sizes["batch"] * n)]
        args += ["--epochs", str(sizes["epochs"]), "--gpus", str(n), "--quiet", "--out", str(out)]
        subprocess.run([sys.executable, "-m", "studio", "train", *args], check=True)
        events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
        epochs = [e["images_per_second"] for e in events if e["event"] == "epoch_ended"]
        rates[n] = statistics.median(epochs[1:] or epochs)
        show(f"data parallel ×{n}", f"{rates[n]:,.1f} images/s, {rates[n] / rates[1]:.2f}×")
        n *= 2
    return rates


def show(name: str, value) -> None:
    print(f"{name:<32} {value}", flush=True)


if __name__ == "__main__":
    main()
