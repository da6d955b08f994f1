"""Label-issue finder on the sample digits with 10 % of labels flipped on purpose: recall of
the flipped files among the top 2 x (number flipped), and the time taken, for the quick
small-CNN retrains (default and tiny settings) and for k-fold retrains with the project's own
training (the slow, naive way), extrapolated from one measured epoch.

    uv run python benchmarks/label_issues.py [--folds 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from test_label_issues import flipped_digits

from studio.config import ProjectConfig
from studio.engine.results.label_issues import find_label_issues
from studio.engine.results.quick_models import QuickSettings
from studio.engine.training.trainer import fit


def quick_run(data: Path, flipped: list[Path], folds: int, quick: QuickSettings) -> str:
    config = ProjectConfig()
    config.data.sources = [data]
    start = time.perf_counter()
    report = find_label_issues(config, folds, quick=quick)
    seconds = time.perf_counter() - start
    top = {im.path for im in report.images[: 2 * len(flipped)]}
    recall = len(top & set(flipped)) / len(flipped)
    flagged = {im.path for im in report.flagged}
    precision = len(flagged & set(flipped)) / max(1, len(flagged))
    return (
        f"{quick.image_size} px, {quick.epochs} epochs, {folds} folds: recall in top "
        f"{2 * len(flipped)} {recall:.0%}; cleanlab flags {len(flagged)} "
        f"(precision {precision:.0%}); {seconds:.1f} s"
    ), seconds


def naive_fold_seconds(data: Path, tmp: Path) -> float:
    """One fold retrained with the default project settings (64 px, 10 epochs), from one
    measured epoch."""
    config = ProjectConfig()
    config.data.sources = [data]
    epochs, config.train.epochs = config.train.epochs, 1
    start = time.perf_counter()
    fit(config, lambda event: None, run_dir=tmp / "fold")
    return (time.perf_counter() - start) * epochs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "digits"
        flipped = flipped_digits(data)
        print(f"Sample digits, {len(flipped)} of {sum(1 for _ in data.rglob('*.png'))} flipped")
        find_label_issues(  # warm up imports so the timings below are the work itself
            ProjectConfig.model_validate({"data": {"sources": [data]}}),
            2,
            quick=QuickSettings(image_size=8, epochs=1),
        )
        line, default = quick_run(data, flipped, args.folds, QuickSettings())
        print(f"  quick default: {line}")
        line, _ = quick_run(data, flipped, 3, QuickSettings(image_size=16, epochs=4))
        print(f"  quick tiny:    {line}")
        naive = naive_fold_seconds(data, Path(tmp)) * args.folds
        print(
            f"  naive {args.folds}-fold retrains with the default settings: about {naive:.0f} s "
            f"({naive / default:.0f}x the quick default)"
        )


if __name__ == "__main__":
    main()
