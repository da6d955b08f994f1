"""Is run B really better than run A? The paired test on two runs' predictions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from studio.cli.main import main
from studio.engine.results import paired_compare as pc
from studio.errors import StudioError


def test_identical_predictions_show_no_difference():
    right = np.array([True] * 40 + [False] * 10)
    result = pc.compare_predictions(right, right.copy(), "A", "B")
    assert result.verdict == "no_difference"
    assert result.text.startswith("No difference")
    assert result.difference == 0.0 and result.ci == (0.0, 0.0) and result.p_value == 1.0


def test_known_difference_gives_the_exact_mcnemar_p_and_a_ci_around_it():
    # 200 images: 150 both right, 2 only A right, 18 only B right, 30 both wrong
    a = np.array([True] * 150 + [True] * 2 + [False] * 18 + [False] * 30)
    b = np.array([True] * 150 + [False] * 2 + [True] * 18 + [False] * 30)
    result = pc.compare_predictions(a, b, "A", "B")
    # by hand: n = 20 discordant, P(X <= 2) = (C(20,0) + C(20,1) + C(20,2)) / 2^20
    # = (1 + 20 + 190) / 1048576, doubled: 422 / 1048576
    assert result.p_value == pytest.approx(422 / 1_048_576, rel=1e-12)
    assert (result.a_only, result.b_only) == (2, 18)
    true_difference = (18 - 2) / 200
    assert result.difference == pytest.approx(true_difference)
    low, high = result.ci
    assert low < true_difference < high and low > 0
    assert result.verdict == "b_better"
    assert result.text.startswith("B is better: +8.0 points, 95 % CI +")
    assert "p < 0.001" in result.text


def test_small_gap_is_no_real_difference():
    a = np.array([True] * 90 + [True] * 3 + [False] * 5 + [False] * 2)
    b = np.array([True] * 90 + [False] * 3 + [True] * 5 + [False] * 2)
    result = pc.compare_predictions(a, b, "A", "B")
    assert result.p_value == pytest.approx(2 * (1 + 8 + 28 + 56) / 256)  # n = 8, k <= 3
    assert result.verdict == "no_difference" and result.text.startswith("No real difference")
    assert result.ci[0] < 0 < result.ci[1]


def test_a_better_reads_the_right_way_round():
    a = np.array([True] * 30 + [False] * 2)
    b = np.array([False] * 20 + [True] * 10 + [False] * 2)
    result = pc.compare_predictions(a, b, "old", "new")
    assert result.verdict == "a_better" and result.text.startswith("old is better: +62.5 points")


def _fake_run(folder: Path, val: list[str], seed: int, right: list[bool]) -> Path:
    folder.mkdir(parents=True)
    val = [str(folder.parent / name) for name in val]  # one image folder beside both runs
    (folder / "best.safetensors").write_bytes(b"")
    split = {"counts": {}, "files": {"train": [], "val": val, "test": []}}
    (folder / "split.json").write_text(json.dumps(split))
    config = {"train": {"seed": seed}, "data": {"val_fraction": 0.2}}
    (folder / "config.json").write_text(json.dumps(config))
    images = [
        {"path": p, "true": "a", "predicted": "a" if ok else "b", "confidence": 0.9, "loss": 0.1}
        for p, ok in zip(val, right, strict=True)
    ]
    (folder / "results.json").write_text(json.dumps({"val": {"images": images}}))
    return folder


def test_runs_with_different_splits_are_refused(tmp_path: Path, capsys):
    a = _fake_run(tmp_path / "a", ["x.png", "y.png", "z.png"], 0, [True, True, False])
    b = _fake_run(tmp_path / "b", ["x.png", "y.png", "w.png"], 1, [True, True, True])
    with pytest.raises(StudioError, match="different images") as info:
        pc.compare_runs(a, b)
    assert "train.seed 0 vs 1" in str(info.value)
    assert main(["compare", str(a), str(b)]) == 2
    assert "different images" in capsys.readouterr().err


def test_compare_command_on_saved_evaluations(tmp_path: Path, capsys):
    val = [f"{i}.png" for i in range(60)]
    a = _fake_run(tmp_path / "a", val, 0, [True] * 30 + [False] * 30)
    b = _fake_run(tmp_path / "b", val, 0, [True] * 55 + [False] * 5)
    assert main(["compare", str(a), str(b), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["verdict"] == "b_better" and out["images"] == 60
    assert out["p_value"] == pytest.approx(2 / 2**25)  # 25 discordant, all for B
    assert main(["compare", str(a), str(b)]) == 0
    assert "b is better: +41.7 points" in capsys.readouterr().out
