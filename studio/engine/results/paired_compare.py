"""Is run B really better than run A, or is the gap noise? A paired comparison on the very
same validation images.

Each image is right or wrong for each run. The accuracy difference gets a bootstrap
confidence interval (images resampled with replacement, both runs together) and McNemar's
exact test: under "no difference", the images that only one run gets right are equally likely
to favour either run, so their split is a fair coin (an exact binomial tail, in integers).
Runs validated on different images cannot be paired: they are refused with the reason.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from studio.config.io import load_run_config, read_path
from studio.engine.control import StopToken
from studio.engine.runs import files
from studio.errors import StudioError

LEVEL = 0.95
ALPHA = 0.05
ROUNDS = 10_000


@dataclasses.dataclass(frozen=True)
class PairedComparison:
    """Run ``b`` against run ``a`` on ``images`` shared validation images. ``a_only`` images
    only A gets right, ``b_only`` only B; ``difference`` and ``ci`` are B − A in accuracy
    (fractions); ``verdict`` is ``a_better``, ``b_better`` or ``no_difference``."""

    a: str
    b: str
    images: int
    accuracy_a: float
    accuracy_b: float
    a_only: int
    b_only: int
    difference: float
    ci: tuple[float, float]
    p_value: float
    verdict: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "ci": list(self.ci), "level": LEVEL}


def mcnemar_exact(a_only: int, b_only: int) -> float:
    """Two-sided exact McNemar p-value: ``P(X <= min)`` doubled, ``X ~ Binomial(n, 1/2)``
    with ``n`` the discordant images; exact integer arithmetic, capped at 1."""
    n = a_only + b_only
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(a_only, b_only) + 1))
    return min(1.0, 2 * tail / 2**n)


def bootstrap_ci(
    counts: tuple[int, int, int, int],
    rounds: int = ROUNDS,
    level: float = LEVEL,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile interval of B − A accuracy when the images are resampled with replacement.

    ``counts`` = (both right, only A right, only B right, both wrong); resampling images is
    drawing these four cells from a multinomial, which is what this does (fast, exact)."""
    total = sum(counts)
    if total == 0:
        return 0.0, 0.0
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(total, np.asarray(counts, dtype=float) / total, size=rounds)
    diffs = (draws[:, 2] - draws[:, 1]) / total
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(diffs, [tail, 100 - tail])
    return float(low), float(high)


def compare_predictions(
    correct_a: np.ndarray, correct_b: np.ndarray, a: str = "A", b: str = "B"
) -> PairedComparison:
    """The paired comparison of two runs' right/wrong flags on the same images (same order)."""
    ra, rb = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    if ra.shape != rb.shape or ra.ndim != 1:
        raise StudioError("The two runs must be judged on the same images.")
    if ra.size == 0:
        raise StudioError("No shared validation images to compare the runs on.")
    both, a_only = int(np.sum(ra & rb)), int(np.sum(ra & ~rb))
    b_only, neither = int(np.sum(~ra & rb)), int(np.sum(~ra & ~rb))
    n = ra.size
    diff = (b_only - a_only) / n
    ci = bootstrap_ci((both, a_only, b_only, neither))
    p = mcnemar_exact(a_only, b_only)
    if a_only == b_only == 0:
        verdict = "no_difference"
        text = (
            f"No difference: {a} and {b} get exactly the same {n} validation images right "
            f"(accuracy {ra.mean():.1%} each)."
        )
    elif p < ALPHA:
        verdict = "b_better" if diff > 0 else "a_better"
        winner = b if diff > 0 else a
        text = f"{winner} is better: {_points(abs(diff))}, {_ci(ci, diff > 0)}, {_p(p)}."
    else:
        verdict = "no_difference"
        text = (
            f"No real difference: {b} − {a} = {_points(diff)}, {_ci(ci, True)}, {_p(p)} — "
            f"within the noise of {n} images ({a_only} only {a} gets right, {b_only} only {b})."
        )
    return PairedComparison(
        a=a,
        b=b,
        images=n,
        accuracy_a=float(ra.mean()),
        accuracy_b=float(rb.mean()),
        a_only=a_only,
        b_only=b_only,
        difference=diff,
        ci=ci,
        p_value=p,
        verdict=verdict,
        text=text,
    )


def _points(diff: float) -> str:
    return f"{diff * 100:+.1f} points"


def _ci(ci: tuple[float, float], b_minus_a: bool) -> str:
    low, high = ci if b_minus_a else (-ci[1], -ci[0])
    return f"{LEVEL:.0%} CI {low * 100:+.1f} to {high * 100:+.1f}".replace("%", " %")


def _p(p: float) -> str:
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"


# -- two run folders ----------------------------------------------------------------------
def validation_files(run_dir: Path) -> list[str]:
    """The validation files a run recorded in ``split.json``."""
    path = Path(run_dir) / files.SPLIT
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [str(read_path(p, Path(run_dir))) for p in data["files"]["val"]]
    except FileNotFoundError:
        name = Path(run_dir).name
        raise StudioError(f"{name} has no {files.SPLIT}: it cannot be paired.") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StudioError(f"Cannot read {path}: {exc}") from None


def split_mismatch(run_a: Path, run_b: Path) -> str | None:
    """Why the two runs cannot be paired (they validated on different images), or ``None``."""
    va, vb = set(validation_files(run_a)), set(validation_files(run_b))
    if va == vb:
        return None
    differ = len(va ^ vb)
    cause = _split_cause(run_a, run_b)
    return (
        f"{Path(run_a).name} and {Path(run_b).name} were validated on different images "
        f"({len(va)} and {len(vb)} images, {differ} not shared{cause}), so a paired test "
        "cannot compare them: train both with the same split."
    )


def _split_cause(run_a: Path, run_b: Path) -> str:
    from studio.engine.runs.config_diff import config_differences

    configs = []
    for run in (run_a, run_b):
        try:
            configs.append(load_run_config(Path(run)).model_dump(mode="json"))
        except StudioError:
            return ""
    wanted = ("train.seed", "data.val_fraction", "data.test_fraction", "data.sources")
    changed = [
        f"{name} {values[0]} vs {values[1]}"
        for name, values in config_differences(configs).items()
        if name in wanted
    ]
    return f"; {', '.join(changed)}" if changed else ""


def compare_runs(
    run_a: str | Path,
    run_b: str | Path,
    token: StopToken | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PairedComparison:
    """Evaluate both runs' best models on their shared validation images (or reuse the
    saved evaluation of each) and compare them pairwise. Different splits are refused."""
    run_a, run_b = Path(run_a), Path(run_b)
    reason = split_mismatch(run_a, run_b)
    if reason:
        raise StudioError(reason)
    judged_a = _judged(run_a, token, progress)
    judged_b = _judged(run_b, token, progress)
    shared = sorted(set(judged_a) & set(judged_b))
    relabelled = [p for p in shared if judged_a[p][0] != judged_b[p][0]]
    if relabelled:
        raise StudioError(
            f"{len(relabelled)} shared validation images have another label in each run "
            f"(e.g. {Path(relabelled[0]).name}): the runs cannot be judged on the same answers."
        )
    return compare_predictions(
        np.array([judged_a[p][1] for p in shared]),
        np.array([judged_b[p][1] for p in shared]),
        run_a.name,
        run_b.name,
    )


def _judged(
    run_dir: Path, token: StopToken | None, progress: Callable[[int, int], None] | None
) -> dict[str, tuple[str, bool]]:
    """``path → (true class, right?)`` on the run's validation images."""
    from studio.engine.results.evaluation import evaluate_split, load_results

    wanted = set(validation_files(run_dir))
    result = load_results(run_dir).get("val")
    images = result.get("images", []) if isinstance(result, dict) else []
    seen = {im["path"] for im in images}
    if not images or not seen <= wanted or len(seen) + result.get("unreadable", 0) < len(wanted):
        result = evaluate_split(run_dir, "val", token, progress)
        images = result["images"]
    return {im["path"]: (im["true"], im["true"] == im["predicted"]) for im in images}
