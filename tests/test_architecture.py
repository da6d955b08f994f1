"""The layers stay apart: only studio/qt imports Qt, and the window comes before torch."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

STUDIO = Path(__file__).resolve().parent.parent / "studio"
QT_IMPORT = re.compile(r"^\s*(from|import)\s+(PySide6|pyqtgraph|shiboken6)\b", re.MULTILINE)


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"},
    ).stdout
    return {name.split(".")[0] for name in json.loads(out.strip().splitlines()[-1])}


def test_no_qt_import_outside_the_qt_package():
    offenders = [
        str(path.relative_to(STUDIO.parent))
        for path in STUDIO.rglob("*.py")
        if "qt" not in path.relative_to(STUDIO).parts[:1] and QT_IMPORT.search(path.read_text())
    ]
    assert offenders == []


def test_engine_config_and_cli_load_without_qt():
    engine_modules = sorted(
        f"studio.engine.{p.stem}" for p in (STUDIO / "engine").glob("*.py") if p.stem != "__init__"
    )
    code = "\n".join(f"import {m}" for m in [*engine_modules, "studio.config", "studio.cli"])
    loaded = _modules_after(code)
    assert {"torch", "albumentations"} <= loaded  # the engine really was imported
    assert not {"PySide6", "pyqtgraph", "shiboken6"} & loaded


def test_window_is_shown_before_heavy_libraries_load():
    code = (
        "from studio.qt.app import create_app, show_main_window\n"
        "app = create_app([])\n"
        "window = show_main_window(app)\n"
        "assert window.isVisible()\n"
    )
    loaded = _modules_after(code)
    assert "PySide6" in loaded
    assert not {"torch", "torchvision", "albumentations", "pyqtgraph"} & loaded


def test_layers_import_only_downwards():
    """config -> engine -> qt: config imports no engine or qt, the engine no qt."""
    rules = {"config": ("studio.engine", "studio.qt", "studio.cli"), "engine": ("studio.qt",)}
    offenders = []
    for layer, banned in rules.items():
        for path in (STUDIO / layer).rglob("*.py"):
            text = path.read_text()
            offenders += [
                f"{path.name}: {b}"
                for b in banned
                if re.search(rf"^\s*(from|import)\s+{re.escape(b)}\b", text, re.MULTILINE)
            ]
    assert offenders == []
