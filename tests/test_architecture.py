"""The layers stay apart: only studio/qt imports Qt, and the window comes before torch."""

from __future__ import annotations

import ast
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
        _module_name(p) for p in (STUDIO / "engine").rglob("*.py") if p.stem != "__init__"
    )
    code = "\n".join(f"import {m}" for m in [*engine_modules, "studio.config", "studio.cli.main"])
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


# The engine's stages, lowest first: a module imports only its own stage or lower ones.
STAGES = ("core", "data", "augment", "models", "runs", "training", "results")


def _module_name(path: Path) -> str:
    parts = path.relative_to(STUDIO.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """Every import of a studio module by a studio module, lazy ones included (those under
    ``if TYPE_CHECKING`` are left out: they never run)."""
    modules = {_module_name(p): p for p in STUDIO.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        skipped = {
            id(n)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for n in ast.walk(node)
        }
        targets: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets |= {f"{node.module}.{a.name}" for a in node.names} | {node.module}
        graph[name] = {
            t for t in targets if t in modules and t != name and modules[t].stem != "__init__"
        }
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_inside_studio():
    assert _cycles(_import_graph()) == []


def test_engine_stages_import_only_downwards():
    def stage(module: str) -> int:
        parts = module.split(".")
        return STAGES.index(parts[2]) if len(parts) > 3 else 0  # engine/x.py is the core

    offenders = [
        f"{m} -> {t}"
        for m, targets in _import_graph().items()
        if m.startswith("studio.engine.")
        for t in targets
        if t.startswith("studio.engine.") and stage(t) > stage(m)
    ]
    assert offenders == []
