"""Training throughput: a plain PyTorch loop vs ``studio train`` vs the GUI, in one run.

Same data (the built-in sample digits), model (small_cnn), image size, batch size, seed and
no augmentation everywhere; each contender runs in its own fresh process. Reports training
images/s (median over epochs after the first) and the ratio to the plain loop.

    uv run python benchmarks/train_speed.py [--epochs 4] [--image-size 64]
"""

from __future__ import annotations

import argparse
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


def _loop(args, data, classes: int) -> list[float]:
    import torch

    from studio.engine.models.factory import SmallCNN

    loader = torch.utils.data.DataLoader(data, batch_size=args.batch_size, shuffle=True)
    model = SmallCNN(classes)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    rates = []
    for _ in range(args.epochs):
        model.train()
        start, seen = time.perf_counter(), 0
        for x, y in loader:
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            seen += len(y)
        rates.append(seen / (time.perf_counter() - start))
    return rates


def torchvision_loop(args) -> list[float]:
    """What a user would write by hand: ImageFolder, torchvision transforms, a simple loop."""
    import torch
    import torchvision
    from torchvision import transforms

    from studio.resources import sample_dataset

    torch.manual_seed(args.seed)
    tf = transforms.Compose(
        [
            transforms.Lambda(lambda im: im.convert("RGB")),
            transforms.Resize((args.image_size, args.image_size)),
            transforms.ToTensor(),
            transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
        ]
    )
    data = torchvision.datasets.ImageFolder(str(sample_dataset()), transform=tf)
    n_val = len(data) // 5
    train, _ = torch.utils.data.random_split(
        data, [len(data) - n_val, n_val], generator=torch.Generator().manual_seed(0)
    )
    return _loop(args, train, len(data.classes))


def plain(args) -> list[float]:
    """A hand-written loop over Studio's own Dataset: the difference to the engine is the
    engine's own per-step cost (events, callbacks, schedule, NaN check)."""
    import torch

    from studio.engine.augment.pipeline import eval_transform
    from studio.engine.data.index import scan_folders
    from studio.engine.data.loaders import ImageDataset
    from studio.resources import sample_dataset

    torch.manual_seed(args.seed)
    index = scan_folders([sample_dataset()])
    keep = [i for i in range(len(index)) if i % 5]  # the same 80 % share as the engine
    data = ImageDataset(
        [index.paths[i] for i in keep],
        [index.labels[i] for i in keep],
        eval_transform(args.image_size),
    )
    return _loop(args, data, len(index.classes))


def cli(args) -> list[float]:
    from studio.resources import sample_dataset

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "studio",
                "train",
                "--data",
                str(sample_dataset()),
                "--model",
                "small_cnn",
                "--epochs",
                str(args.epochs),
                "--batch-size",
                str(args.batch_size),
                "--image-size",
                str(args.image_size),
                "--seed",
                str(args.seed),
                "--augment",
                "none",
                "--set",
                "train.schedule=constant",
                "--quiet",
                "--out",
                f"{tmp}/run",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        text = Path(f"{tmp}/run/events.jsonl").read_text()
        events = [json.loads(line) for line in text.splitlines()]
    return [e["images_per_second"] for e in events if e["event"] == "epoch_ended"]


def gui(args) -> list[float]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop

    from studio.config import AugmentConfig
    from studio.qt.app import create_app
    from studio.qt.main_window import MainWindow

    app = create_app([])
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["STUDIO_HOME"] = tmp
        window = MainWindow()
        window.show()
        loop = QEventLoop()
        window.model.dataset_changed.connect(loop.quit)
        window.use_sample_dataset()
        loop.exec()
        window.model.update("augment", **dict(AugmentConfig.from_preset("none")))
        window.model.update("train", schedule="constant")
        window.model.update(
            "train",
            epochs=args.epochs,
            batch_size=args.batch_size,
            image_size=args.image_size,
            seed=args.seed,
        )
        rates: list[float] = []
        window.controller.epoch_ended.connect(lambda e: rates.append(e.images_per_second))
        window.controller.run_finished.connect(loop.quit)
        probe = StallProbe()
        window.controller.run_started.connect(lambda e: probe.start())
        window.start_training()
        loop.exec()
        probe.stop()
        closed = QEventLoop()
        window.closed.connect(closed.quit)
        if not window.close():  # the Results tab is still evaluating: wait for it
            closed.exec()
        print(
            f"longest GUI event-loop stall while training: {probe.longest * 1000:.1f} ms",
            file=sys.stderr,
        )
    del app
    return rates


class StallProbe:
    """A 10 ms QTimer; the longest gap between its ticks is how long the GUI froze."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.last = 0.0
        self.longest = 0.0

    def start(self) -> None:
        self.last = time.perf_counter()
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self.last)
        self.last = now

    def stop(self) -> None:
        self.timer.stop()


def first_batch(args) -> list[float]:
    """Seconds from the end of epoch 1 to the first batch of epoch 2, with 2 persistent
    loader workers (the GUI's and CLI's setting on a GPU machine)."""
    from studio.config import AugmentConfig, ProjectConfig
    from studio.engine.events import BatchEnded, EpochEnded
    from studio.engine.training.trainer import fit
    from studio.resources import sample_dataset

    cfg = ProjectConfig()
    cfg.data.sources = [sample_dataset()]
    cfg.augment = AugmentConfig.from_preset("none")
    cfg.train.epochs, cfg.train.num_workers = 2, 2
    cfg.train.image_size, cfg.train.batch_size = args.image_size, args.batch_size
    marks: dict[str, float] = {}

    def sink(event) -> None:
        if isinstance(event, EpochEnded) and event.epoch == 1:
            marks["epoch_end"] = time.perf_counter()
        elif isinstance(event, BatchEnded) and event.epoch == 2 and event.batch == 1:
            marks["first"] = time.perf_counter()

    fit(cfg, sink)
    return [marks["first"] - marks["epoch_end"]]


def _child(mode: str, args) -> list[float]:
    """Run one contender in a fresh process; its last stdout line is ``{"rates": [...]}``."""
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--mode",
            mode,
            "--epochs",
            str(args.epochs),
            "--image-size",
            str(args.image_size),
            "--batch-size",
            str(args.batch_size),
        ],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])["rates"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--mode", choices=["torchvision_loop", "plain", "cli", "gui", "first_batch"]
    )
    args = parser.parse_args()
    if args.mode:
        print(json.dumps({"mode": args.mode, "rates": globals()[args.mode](args)}))
        return
    results = {}
    for mode in ("torchvision_loop", "plain", "cli", "gui"):
        rates = _child(mode, args)
        results[mode] = statistics.median(rates[1:] or rates)
    first = _child("first_batch", args)[0]
    print(
        f"sample digits, small_cnn, {args.image_size}px, batch {args.batch_size}, "
        f"{args.epochs} epochs, no augmentation, torch threads {os.cpu_count()} cores"
    )
    for mode, rate in results.items():
        print(f"{mode:17s} {rate:8.1f} img/s   {rate / results['plain']:.2f}x plain loop")
    for mode in ("cli", "gui"):
        step_ms = (1 / results[mode] - 1 / results["plain"]) * args.batch_size * 1000
        print(f"engine overhead per step ({mode}): {step_ms:+.2f} ms")
    print(f"first batch of epoch 2 (2 persistent workers, incl. its step): {first * 1000:.0f} ms")


if __name__ == "__main__":
    main()
