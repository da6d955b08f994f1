"""How long the Results steps take: evaluation, prediction, and each export with verification.

Trains a short run on the built-in sample digits (or uses ``--run RUN_DIR``), then times
:func:`evaluate`, :func:`predict` over the validation images, and :func:`export` (which
includes reloading the file and comparing it with the app) for each format.

    uv run python benchmarks/results_speed.py [--model small_cnn] [--image-size 64] [--device cpu]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def train(out: Path, model: str, image_size: int, epochs: int) -> Path:
    from studio.config import ProjectConfig
    from studio.engine.training.trainer import fit
    from studio.resources import sample_dataset

    config = ProjectConfig.model_validate(
        {
            "data": {"sources": [sample_dataset()]},
            "model": {"name": model, "weights": "none", "strategy": "scratch"},
            "train": {"epochs": epochs, "image_size": image_size, "batch_size": 32},
        }
    )
    fit(config, lambda event: None, None, out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="an existing run folder")
    parser.add_argument("--model", default="small_cnn")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="for evaluate and predict")
    args = parser.parse_args()
    from studio.engine.results.evaluation import evaluate_split, load_run, predict, split_files
    from studio.engine.results.export import FORMATS, export

    with tempfile.TemporaryDirectory() as tmp:
        run_dir = args.run or train(Path(tmp) / "run", args.model, args.image_size, args.epochs)
        t0 = time.perf_counter()
        run = load_run(run_dir, args.device)
        print(f"load_run: {time.perf_counter() - t0:.2f} s ({run.model_name}, {run.device})")
        t0 = time.perf_counter()
        result = evaluate_split(run, save=False)
        seconds = time.perf_counter() - t0
        print(
            f"evaluate: {result['count']} validation images in {seconds:.2f} s "
            f"({result['count'] / seconds:.0f} img/s), accuracy {result['accuracy']:.1%}"
        )
        paths = split_files(run, "val")[0]
        t0 = time.perf_counter()
        predict(run, paths, top_k=3)
        seconds = time.perf_counter() - t0
        print(
            f"predict:  {len(paths)} images in {seconds:.2f} s ({len(paths) / seconds:.0f} img/s)"
        )
        for fmt in FORMATS:
            report = export(run_dir, fmt, Path(tmp) / f"export-{fmt}")
            print(
                f"export {fmt:11s}: {report.seconds:.2f} s incl. verification on "
                f"{report.images} images, max abs diff {report.max_abs_diff:.2g}, "
                f"agreement {report.agreement:.0%}"
            )


if __name__ == "__main__":
    main()
