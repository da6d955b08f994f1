"""benchmarks/gpu_check.py keeps working without a GPU: its smallest mode, in-process."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_gpu_check_runs_in_quick_mode(tmp_path: Path, capsys):
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "benchmarks/gpu_check.py")
    gpu_check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpu_check)
    out = tmp_path / "results.json"
    results = gpu_check.main(["--quick", "--json", str(out)])
    assert results["quick"] and json.loads(out.read_text())["model"] == "resnet18"
    assert results["synthetic fp32"] > 0 and results["engine end to end"] > 0
    assert results["engine / synthetic"] > 0
    assert "engine / synthetic" in capsys.readouterr().out
